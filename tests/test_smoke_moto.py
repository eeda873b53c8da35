from tests.conftest import register_ami


def test_moto_server_answers_over_http(boto):
    image_id = register_ami(boto, name="app-1.0.0", version="1.0.0", tags={"App": "web"})
    images = boto("ec2").describe_images(Owners=["self"])["Images"]
    assert [i["ImageId"] for i in images] == [image_id]
    assert {t["Key"]: t["Value"] for t in images[0]["Tags"]} == {"App": "web", "Version": "1.0.0"}
