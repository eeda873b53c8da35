"""Carry out one rollout step through `FleetOps`, idempotently.

A resumed rollout runs the step that was in flight when the process died once more, so every step
here first looks at the cloud and only does what is still missing: CREATE_GROUP adopts a group of
its own name that pins the same launch template version; TERMINATE stops once the group's desired
capacity is down to the step's `desired`; DRAIN/TERMINATE without instance ids choose members at
run time (already-drained first, then unhealthy, then by id) so a re-run picks the same ones;
DETACH/DRAIN/DELETE_GROUP of a group that is gone are done. Waits live in rollout.waits.
Callers: rollout.executor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reconciler.rollout.health import member_problems
from reconciler.rollout.model import RolloutStep, StepKind
from reconciler.rollout.waits import FailureKind, Observation, StepEnv, StepFailed, pause, wait_healthy
from reconciler.sdk.fleet import GroupInfo, GroupMember, LifecycleState, TargetHealth
from reconciler.sdk.rollout_block import format_duration

__all__ = ["is_live", "live_members", "pick_members", "run_step", "target_group_arns"]

_GONE = (LifecycleState.TERMINATING, LifecycleState.TERMINATED)
_GONE_EC2 = ("shutting-down", "terminated")
_OWNER_TAGS = ("reconciler:stack", "reconciler:fleet")  # a group to adopt must carry the live one's
_REGISTERED = (TargetHealth.INITIAL, TargetHealth.HEALTHY, TargetHealth.UNHEALTHY, TargetHealth.UNAVAILABLE)


def target_group_arns(env: StepEnv, names: Sequence[str]) -> list[str]:
    """ARNs of the named target groups of the fleet (all of them when `names` is empty)."""
    plan = env.plan
    if not plan.target_groups:
        return []
    if len(plan.target_group_arns) != len(plan.target_groups):
        raise StepFailed(
            FailureKind.CONFLICT,
            f"the plan names target groups {', '.join(plan.target_groups)} without their ARNs",
        )
    by_name = dict(zip(plan.target_groups, plan.target_group_arns, strict=True))
    wanted = list(names) or list(plan.target_groups)
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise StepFailed(FailureKind.CONFLICT, f"target group {', '.join(unknown)} is not one of the fleet's")
    return [by_name[n] for n in wanted]


def is_live(member: GroupMember) -> bool:
    """Not on its way out, by auto-scaling's word or by EC2's (the two can lag each other)."""
    return member.lifecycle_state not in _GONE and member.instance_state not in _GONE_EC2


def live_members(env: StepEnv, group: str) -> list[GroupMember]:
    return [m for m in env.ops.members_and_health(group) if is_live(m)]


def pick_members(
    members: Sequence[GroupMember], *, count: int, image_id: str, exclude_image: str, arns: Sequence[str]
) -> list[GroupMember]:
    """`count` members on `image_id` (or, without one, not on `exclude_image`): those already out of
    every target group first, then unhealthy ones, then by id: a re-run chooses the same ones."""
    eligible = [
        m
        for m in members
        if (m.image_id == image_id if image_id else m.image_id != exclude_image) and is_live(m)
    ]

    def key(m: GroupMember) -> tuple[bool, bool, str]:
        registered = any(m.target_health.get(arn) in _REGISTERED for arn in arns)
        healthy = not member_problems(m, target_group_arns=arns)
        return (registered, healthy, m.instance_id)

    return sorted(eligible, key=key)[: max(0, count)]


def _group(env: StepEnv, name: str, *, step: RolloutStep) -> GroupInfo:
    info = env.ops.describe_group(name)
    if info is None:
        raise StepFailed(FailureKind.CONFLICT, f"group {name} does not exist (needed to {step.description})")
    return info


def _set_version(step: RolloutStep, env: StepEnv) -> None:
    assert step.launch_template_version is not None, "SET_VERSION steps carry a version"
    env.ops.set_launch_template_version(
        group=step.group, launch_template_id=env.plan.launch_template_id, version=step.launch_template_version
    )


def _create_group(step: RolloutStep, env: StepEnv) -> None:
    version = step.launch_template_version
    assert version is not None, "CREATE_GROUP steps carry a version"
    desired = step.desired or 0
    min_size = step.min_size if step.min_size is not None else 0
    max_size = step.max_size if step.max_size is not None else max(desired, env.plan.max_size)
    existing = env.ops.describe_group(step.group)
    live = env.ops.describe_group(env.plan.group)
    if existing is not None:
        # a crash after the create call: adopt the group only if it is the one this step makes
        owners = [{k: v for k, v in g.tags.items() if k in _OWNER_TAGS} for g in (existing, live) if g]
        ours = (
            existing.launch_template_version == version
            and (
                not env.plan.launch_template_id or existing.launch_template_id == env.plan.launch_template_id
            )
            and all(o == owners[0] for o in owners)
        )
        if not ours:
            raise StepFailed(
                FailureKind.CONFLICT,
                f"group {step.group} already exists (launch template {existing.launch_template_id} "
                f"version {existing.launch_template_version}, owner tags {owners[0] or 'none'}) and "
                f"it was not created by this rollout (version {version}, owned like {env.plan.group})",
            )
        env.ops.set_capacity(group=step.group, desired=desired, min_size=min_size, max_size=max_size)
        env.observe(Observation(group=step.group, detail=f"{step.group} already exists; adopted"))
        return
    env.ops.create_group(
        name=step.group,
        launch_template_id=env.plan.launch_template_id,
        launch_template_version=version,
        desired=desired,
        min_size=min_size,
        max_size=max_size,
        target_group_arns=(),  # the plan attaches in its own ATTACH step
        like=env.plan.group,
        tags=env.tags,
    )


def _attach(step: RolloutStep, env: StepEnv) -> None:
    arns = target_group_arns(env, step.target_groups)
    if not arns:
        return
    if step.instance_ids:
        alive = {m.instance_id for m in live_members(env, step.group)}
        ids = [i for i in step.instance_ids if i in alive]
        if ids:
            env.ops.register_instances(target_group_arns=arns, instance_ids=ids)
        return
    _group(env, step.group, step=step)
    env.ops.attach_target_groups(group=step.group, target_group_arns=arns)
    # attaching a group that is attached already registers nothing: members drained by an earlier
    # step (a rollback after a partial DRAIN) are put back explicitly
    out = [
        m.instance_id
        for m in live_members(env, step.group)
        if any(m.target_health.get(arn) not in _REGISTERED for arn in arns)
    ]
    if out:
        env.ops.register_instances(target_group_arns=arns, instance_ids=out)


def _detach(step: RolloutStep, env: StepEnv) -> None:
    arns = target_group_arns(env, step.target_groups)
    if arns and env.ops.describe_group(step.group) is not None:
        env.ops.detach_target_groups(group=step.group, target_group_arns=arns)


def _launch(step: RolloutStep, env: StepEnv) -> None:
    info = _group(env, step.group, step=step)
    desired = step.desired if step.desired is not None else info.desired + step.count
    max_size = step.max_size
    if max_size is None and info.max_size < desired:
        max_size = desired
    env.ops.set_capacity(group=step.group, desired=desired, max_size=max_size)


def _scale(step: RolloutStep, env: StepEnv) -> None:
    info = _group(env, step.group, step=step)
    desired = step.desired if step.desired is not None else info.desired
    env.ops.set_capacity(group=step.group, desired=desired, min_size=step.min_size, max_size=step.max_size)


def _drain(step: RolloutStep, env: StepEnv) -> None:
    arns = target_group_arns(env, step.target_groups)
    members = live_members(env, step.group) if env.ops.describe_group(step.group) is not None else []
    if step.instance_ids:
        alive = {m.instance_id for m in members}
        ids = [i for i in step.instance_ids if i in alive]
    elif step.count:
        chosen = pick_members(
            members, count=step.count, image_id=step.image_id, exclude_image=env.plan.new.image_id, arns=arns
        )
        ids = [m.instance_id for m in chosen]
    else:
        ids = [m.instance_id for m in members]
    if not ids or not arns:
        return
    env.ops.deregister_instances(target_group_arns=arns, instance_ids=ids)
    if not env.ops.wait_drained(target_group_arns=arns, instance_ids=ids, timeout_s=step.duration_s):
        waited = format_duration(step.duration_s, compact=True)
        env.observe(Observation(group=step.group, detail=f"still draining after {waited}; going on"))


def _terminate(step: RolloutStep, env: StepEnv) -> None:
    info = _group(env, step.group, step=step)
    after = step.desired if step.desired is not None else max(0, info.desired - step.count)
    excess = info.desired - after
    if excess <= 0:
        return  # done already (a re-run after a crash)
    floor = step.min_size if step.min_size is not None else min(info.min_size, after)
    if info.min_size > floor:
        env.ops.set_capacity(group=step.group, desired=info.desired, min_size=floor)
    members = live_members(env, step.group)
    if step.instance_ids:
        alive = {m.instance_id for m in members}
        ids = [i for i in step.instance_ids if i in alive]
    else:
        arns = target_group_arns(env, step.target_groups)
        chosen = pick_members(
            members, count=excess, image_id=step.image_id, exclude_image=env.plan.new.image_id, arns=arns
        )
        ids = [m.instance_id for m in chosen]
    for instance_id in ids[:excess]:
        env.ops.terminate_instance(instance_id, decrement=True)
    left = excess - len(ids[:excess])
    if left > 0:
        # listed instances are gone on their own and were replaced: let the group choose
        env.ops.set_capacity(group=step.group, desired=after)


def _keep_previous(step: RolloutStep, env: StepEnv) -> None:
    kept = format_duration(step.duration_s, compact=True)
    env.observe(Observation(group=step.group, detail=f"{step.group} kept {kept} for rollback"))


def _delete_group(step: RolloutStep, env: StepEnv) -> None:
    info = env.ops.describe_group(step.group)
    if info is None:
        return
    version = env.plan.new.launch_template_version
    if step.group == env.plan.green_group and info.launch_template_version != version:
        raise StepFailed(
            FailureKind.CONFLICT,
            f"group {step.group} pins launch template version {info.launch_template_version}, "
            f"not {version}: it is not the group this rollout created, so it is left alone",
        )
    env.ops.delete_group(step.group, force=True)


_ACTIONS: dict[StepKind, Callable[[RolloutStep, StepEnv], None]] = {
    StepKind.SET_VERSION: _set_version,
    StepKind.CREATE_GROUP: _create_group,
    StepKind.ATTACH: _attach,
    StepKind.LAUNCH: _launch,
    StepKind.WAIT_HEALTHY: wait_healthy,
    StepKind.DETACH: _detach,
    StepKind.DRAIN: _drain,
    StepKind.TERMINATE: _terminate,
    StepKind.SCALE: _scale,
    StepKind.PAUSE: pause,
    StepKind.KEEP_PREVIOUS: _keep_previous,
    StepKind.DELETE_GROUP: _delete_group,
}


def run_step(step: RolloutStep, env: StepEnv) -> None:
    """Do `step`; raises StepFailed (gate, alarm, conflict) or CloudError from `env.ops`."""
    _ACTIONS[step.kind](step, env)
