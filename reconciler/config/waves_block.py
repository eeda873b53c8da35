"""The stack-level `reconciler { waves { bake = "10m"  alarms = [...]  provider = aws.eu } }`
block: literal values, checked into `WavesSettings` with diagnostics naming file and line.
Callers: config.loader.
"""

from __future__ import annotations

from reconciler.config.decode import Diags, check_names, literal_of, provider_key
from reconciler.config.model import NestedBlock, WavesSettings
from reconciler.sdk.rollout_block import parse_duration


def waves_settings(blocks: list[NestedBlock], diags: Diags, *, context: str) -> WavesSettings:
    for extra in blocks[1:]:
        diags.add('Duplicate "waves" block', extra.pos, context=context)
    block = blocks[0]
    where = "in waves"
    check_names(
        block.body,
        allowed_attrs=("bake", "alarms", "provider"),
        allowed_blocks=(),
        diags=diags,
        context=where,
    )
    bake_s = 0
    bake = block.body.attributes.get("bake")
    raw = literal_of(bake, (str, int), "0s", diags, context=where)
    try:
        bake_s = parse_duration(raw)
    except ValueError as exc:
        assert bake is not None
        diags.add(f'Invalid value for "bake": {exc}', bake.pos, context=where)
    alarms_attr = block.body.attributes.get("alarms")
    alarms = literal_of(alarms_attr, (list, tuple), [], diags, context=where)
    if alarms_attr is not None and any(not isinstance(a, str) or not a.strip() for a in alarms):
        diags.add(
            'Invalid value for "alarms": a list of alarm names is required', alarms_attr.pos, context=where
        )
        alarms = []
    provider_attr = block.body.attributes.get("provider")
    provider = (
        provider_key(provider_attr, diags, context=where, type_name="aws_fleet") if provider_attr else None
    )
    return WavesSettings(bake_s=bake_s, alarms=tuple(alarms), provider=provider, pos=block.pos)
