from tests.conftest import register_ami


def test_moto_server_answers_over_http(boto):
    image_id = register_ami(boto, name="app-1.0.0", version="1.0.0", tags={"App": "web"})
    images = boto("ec2").describe_images(Owners=["self"])["Images"]
    assert [i["ImageId"] for i in images] == [image_id]
    assert {t["Key"]: t["Value"] for t in images[0]["Tags"]} == {"App": "web", "Version": "1.0.0"}


def test_launch_templates_are_described_with_their_current_tags_as_on_aws(boto):
    """The sandbox's fix of moto 5.2, which answers with the tags a template was created with."""
    ec2 = boto("ec2")
    tid = ec2.create_launch_template(
        LaunchTemplateName="probe",
        LaunchTemplateData={"ImageId": "ami-12345678"},
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "a", "Value": "1"}]}],
    )["LaunchTemplate"]["LaunchTemplateId"]
    ec2.delete_tags(Resources=[tid], Tags=[{"Key": "a"}])
    ec2.create_tags(Resources=[tid], Tags=[{"Key": "b", "Value": "2"}])
    described = ec2.describe_launch_templates(LaunchTemplateIds=[tid])["LaunchTemplates"][0]
    assert described["Tags"] == [{"Key": "b", "Value": "2"}]
    by_tag = ec2.describe_launch_templates(Filters=[{"Name": "tag:b", "Values": ["2"]}])["LaunchTemplates"]
    assert [t["LaunchTemplateId"] for t in by_tag] == [tid]


def test_launch_templates_and_their_versions_are_paged_as_on_aws(boto):
    """The sandbox's fix of moto 5.2, which cuts both listings at MaxResults (15 without it)."""
    ec2 = boto("ec2")
    data = {"ImageId": "ami-1"}
    names = [f"page-{i:02d}" for i in range(23)]
    made = [ec2.create_launch_template(LaunchTemplateName=n, LaunchTemplateData=data) for n in names]
    ids = [m["LaunchTemplate"]["LaunchTemplateId"] for m in made]
    pages = list(ec2.get_paginator("describe_launch_templates").paginate(PaginationConfig={"PageSize": 10}))
    assert [len(p["LaunchTemplates"]) for p in pages] == [10, 10, 3]
    assert sorted(t["LaunchTemplateId"] for p in pages for t in p["LaunchTemplates"]) == sorted(ids)
    assert len(ec2.describe_launch_templates(LaunchTemplateIds=ids)["LaunchTemplates"]) == 23
    versions = ec2.get_paginator("describe_launch_template_versions").paginate(
        Versions=["$Default"], PaginationConfig={"PageSize": 10}
    )
    assert sorted(v["LaunchTemplateId"] for p in versions for v in p["LaunchTemplateVersions"]) == sorted(ids)
