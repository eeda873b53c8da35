# House rules for reconciler plans, in OPA's Rego, read from `reconciler plan --format json`
# (Terraform's plan JSON layout). Run with conftest or opa; see README.md beside this file.
package main

import rego.v1

# Fleets tagged Environment = "production" must roll out blue/green: a new group at full capacity,
# health-gated, the old one kept for a fast rollback. A fleet's own settings are in its change
# (`resource_changes`, type "aws_fleet"); `planned_values` pictures it as an aws_autoscaling_group.
deny contains msg if {
	some rc in input.resource_changes
	rc.type == "aws_fleet"
	not "delete" in rc.change.actions
	rc.change.after.tags.Environment == "production"
	strategy := object.get(rc.change.after, ["rollout", "strategy"], "rolling")
	strategy != "blue_green"
	msg := sprintf("%s: production fleets must use rollout strategy blue_green, not %s", [rc.address, strategy])
}

# No launch template may run a public AMI: every image lookup the plan resolved (data sources,
# in prior_state) must have found a private image.
deny contains msg if {
	some r in input.prior_state.values.root_module.resources
	r.mode == "data"
	r.type == "aws_ami"
	r.values.public == true
	msg := sprintf("%s: %s (%s) is a public AMI", [r.address, r.values.image_id, r.values.name])
}
