"""Deploys infra/template.yaml into moto's CloudFormation and checks what it declares.

moto does not run the SAM transform, so the resources it can create (table, queues, bucket, schedules) are
deployed as a plain CloudFormation stack and each is then checked through its own API: the table's keys, indexes,
TTL and point-in-time recovery; each queue's redrive to its dead-letter queue and, for a queue a function consumes,
a visibility timeout of at least six times the function's timeout plus its batching window, and each consumer's
declared event source (batches of at most 10, failures reported per message); each bucket's encryption,
public-access block, versioning, lifecycle rules and TLS-only policy; each schedule's expression, state, target
and input. A schedule targets a
SAM function by `!GetAtt Function.Arn`: for moto that reference becomes the ARN the function will have (built
from its FunctionName), and the rule's target is checked against it. The serverless resources (functions, HTTP
API, their events), the types moto lacks (bucket policy, alarms) and the resources attached to a SAM function
(its invoke permissions) are listed by name as not created by moto. Any other resource that is missing fails
the check.

    .venv/bin/python infra/check_deploy.py [infra/template.yaml]

Starts a moto server (the one installed next to the running Python) on a free loopback port and stops it when
done; exits 1 if any check failed.
"""

import json
import re
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
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
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


def function_arn(resource):
    """The ARN a SAM function will have, from its FunctionName (a name or a `!Sub` of one); None without one."""
    name = resource.get("Properties", {}).get("FunctionName")
    if isinstance(name, dict) and list(name) == ["Fn::Sub"] and isinstance(name["Fn::Sub"], str):
        name = name["Fn::Sub"]
    if not isinstance(name, str):
        return None
    return {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:" + name}


def arn_output(function):
    return f"{function}ArnForCheck"


def with_function_arns(value, arns):
    """The value with each `!GetAtt Function.Arn` of a function in arns replaced by that function's ARN."""
    if isinstance(value, dict):
        if list(value) == ["Fn::GetAtt"]:
            target = value["Fn::GetAtt"]
            target = target if isinstance(target, list) else str(target).split(".", 1)
            if len(target) == 2 and target[0] in arns and target[1] == "Arn":
                return arns[target[0]]
        return {key: with_function_arns(inner, arns) for key, inner in value.items()}
    if isinstance(value, list):
        return [with_function_arns(inner, arns) for inner in value]
    return value


def plain_template(template):
    """The template without the SAM transform: the resources moto creates, and what they need.

    Returns the plain template, the resources kept in it (as declared) and the skipped ones (name: (type, why)).
    """
    resources = template["Resources"]
    kept = {name: r for name, r in resources.items() if deployable(r["Type"])}
    skipped = {
        name: (r["Type"], "SAM" if r["Type"].startswith("AWS::Serverless::") else "unsupported")
        for name, r in resources.items()
        if not deployable(r["Type"])
    }
    # A resource attached to a function (an invoke permission, an event source mapping) needs the function itself.
    for name, resource in list(kept.items()):
        if references(resource.get("Properties", {}).get("FunctionName")) & set(skipped):
            skipped[name] = (kept.pop(name)["Type"], "attached")
    # Anything else may point at a SAM function by its ARN, which is known before the function exists.
    arns = {
        name: arn
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function" and (arn := function_arn(resource))
    }
    plain_resources = {name: with_function_arns(r, arns) for name, r in kept.items()}
    for name, resource in plain_resources.items():
        missing = references(resource) & set(skipped)
        if missing:
            sys.exit(f"{name} refers to {sorted(missing)}, which moto does not create")
    outputs = {
        name: output
        for name, output in template.get("Outputs", {}).items()
        if not references(output) & set(skipped)
    }
    # The functions' ARNs, resolved by moto, for the checks of what targets them.
    outputs.update({arn_output(name): {"Value": arn} for name, arn in arns.items()})
    plain = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": template.get("Parameters", {}),
        "Conditions": template.get("Conditions", {}),
        "Resources": plain_resources,
        "Outputs": outputs,
    }
    return json.loads(json.dumps(plain, default=str)), kept, skipped


def sqs_consumers(template):
    """For each queue that a SAM function consumes: (function, its timeout, its SQS event's properties) for each."""
    default_timeout = template.get("Globals", {}).get("Function", {}).get("Timeout", 3)
    consumers = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties", {})
        for event in props.get("Events", {}).values():
            queue = references(event.get("Properties", {}).get("Queue"))
            if event.get("Type") == "SQS" and len(queue) == 1:
                queue = queue.pop()
                consumers.setdefault(queue, []).append((name, props.get("Timeout", default_timeout), event["Properties"]))
    return consumers


def bucket_policies(template):
    """For each bucket: whether a bucket policy denies every request that does not come over TLS."""
    tls_only = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::S3::BucketPolicy":
            continue
        props = resource["Properties"]
        for statement in props["PolicyDocument"].get("Statement", []):
            denies_plain = (
                statement.get("Effect") == "Deny"
                and statement.get("Action") == "s3:*"
                and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
            )
            if denies_plain:
                for bucket in references(props["Bucket"]):
                    tls_only[bucket] = True
    return tls_only


# Each personal blob prefix's lifecycle rule and the declaration whose retention it must match.
RETENTION_BY_PREFIX = {
    "privacy-exports/": ("shared/platform/src/privacy/blobs.rs", "EXPORT"),
    "personal/": ("shared/platform/src/privacy/blobs.rs", "CUSTOMER_FILES"),
    "pod/": ("shared/platform/src/repo/tracking.rs", "POD_PERSONAL"),
}


def declared_retention_days(path, name):
    """The retention a personal-data declaration in the code gives (`pub const NAME: Declaration`)."""
    source = (ROOT / path).read_text()
    declaration = source[source.index(f"pub const {name}:") :]
    declaration = declaration[: declaration.index("};")]
    days = re.search(r"retention_days:\s*(\d+)", declaration)
    return int(days.group(1)) if days else None


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
    consumers = sqs_consumers(template)
    functions = {name for name, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
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
        stack = cloudformation.describe_stacks(StackName="lastmile-check")["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
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
                visibility = int(attributes["VisibilityTimeout"])
                for function, timeout, event in consumers.get(name, []):
                    window = event.get("MaximumBatchingWindowInSeconds", 0)
                    checks.check(
                        visibility >= 6 * timeout + window,
                        f"{name}: visibility timeout {visibility} s >= 6 × {function}'s {timeout} s + {window} s",
                    )
                    # The event source mapping is expanded by SAM on deploy: check its declaration.
                    checks.check(
                        0 < event.get("BatchSize", 10) <= 10
                        and event.get("FunctionResponseTypes") == ["ReportBatchItemFailures"],
                        f"{name}: {function} takes batches of {event.get('BatchSize', 10)} and reports failed"
                        " messages alone (declared)",
                    )
            elif resource["Type"] == "AWS::Events::Rule":
                events = client("events")
                rule = events.describe_rule(Name=physical_id)
                for key in ("ScheduleExpression", "State"):
                    checks.check(rule.get(key) == props.get(key), f"{name}: {key} {rule.get(key)}")
                targets = {t["Id"]: t for t in events.list_targets_by_rule(Rule=physical_id)["Targets"]}
                for declared in props.get("Targets", []):
                    target = targets.get(declared["Id"], {})
                    function = references(declared["Arn"])
                    function = function.pop() if len(function) == 1 else declared["Arn"]
                    # Only targets that are SAM functions are known here; any other target fails until checked.
                    expected = outputs.get(arn_output(function)) if function in functions else None
                    checks.check(
                        expected is not None and target.get("Arn") == expected,
                        f"{name}: target {declared['Id']} is {function} ({target.get('Arn')})",
                    )
                    checks.check(
                        "Input" in target and json.loads(target["Input"]) == json.loads(declared["Input"]),
                        f"{name}: target {declared['Id']} input {target.get('Input')}",
                    )
                    # The permission that lets the rule invoke the function is attached to the function, so moto
                    # cannot create it: check that it is declared.
                    permitted = [
                        p
                        for p, r in template["Resources"].items()
                        if r["Type"] == "AWS::Lambda::Permission"
                        and references(r["Properties"]["FunctionName"]) == {function}
                        and r["Properties"].get("Principal") == "events.amazonaws.com"
                        and r["Properties"].get("Action") == "lambda:InvokeFunction"
                        and references(r["Properties"].get("SourceArn")) == {name}
                    ]
                    checks.check(
                        bool(permitted),
                        f"{name}: may invoke {function} ({', '.join(permitted) or 'no permission'}; declared)",
                    )
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
                # moto's CloudFormation leaves versioning and lifecycle rules unset: where the API shows none,
                # the declaration is what can be checked.
                versioning = s3.get_bucket_versioning(Bucket=physical_id).get("Status")
                declared_versioning = props.get("VersioningConfiguration", {}).get("Status")
                checks.check(
                    versioning == "Enabled" or (versioning is None and declared_versioning == "Enabled"),
                    f"{name}: versioned" + ("" if versioning else " (declared; moto leaves it unset)"),
                )
                try:
                    applied = s3.get_bucket_lifecycle_configuration(Bucket=physical_id)["Rules"]
                except s3.exceptions.ClientError:
                    applied = []
                applied = {r.get("ID"): r for r in applied}
                for rule in props.get("LifecycleConfiguration", {}).get("Rules", []):
                    if applied:
                        got = applied.get(rule["Id"], {})
                        prefix = got.get("Filter", {}).get("Prefix", got.get("Prefix", ""))
                        days = got.get("Expiration", {}).get("Days")
                        noncurrent = got.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
                        status, note = got.get("Status"), ""
                    else:
                        prefix, days, status = rule.get("Prefix", ""), rule.get("ExpirationInDays"), rule["Status"]
                        noncurrent = rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
                        note = " (declared; moto leaves it unset)"
                    checks.check(
                        status == "Enabled"
                        and prefix == rule.get("Prefix", "")
                        and days == rule.get("ExpirationInDays")
                        and noncurrent == rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays"),
                        f"{name}: lifecycle {rule['Id']} on {prefix or 'every key'!r}"
                        + (f", current versions after {days} days" if days else "")
                        + (f", older versions after {noncurrent} days" if noncurrent else "")
                        + note,
                    )
                rules = {r.get("Prefix"): r for r in props.get("LifecycleConfiguration", {}).get("Rules", [])}
                if "privacy-exports/" in rules:
                    # The bucket erasure works on holds every kind of personal file: each expires with its item.
                    for prefix, (path, declaration) in RETENTION_BY_PREFIX.items():
                        days = declared_retention_days(path, declaration)
                        checks.check(
                            rules.get(prefix, {}).get("ExpirationInDays") == days,
                            f"{name}: files under {prefix} expire with their personal item ({days} days, {declaration})",
                        )
                checks.check(bucket_policies(template).get(name, False), f"{name}: TLS only (policy declared)")
        print("not created by moto:")
        for why, heading in (
            ("SAM", "SAM resources, expanded by the transform on deploy"),
            ("unsupported", "types moto's CloudFormation lacks"),
            ("attached", "attached to a SAM function"),
        ):
            names = sorted(name for name, (_, reason) in skipped.items() if reason == why)
            if names:
                print(f"  {heading}:")
            for name in names:
                kind = skipped[name][0]
                events = template["Resources"][name].get("Properties", {}).get("Events", {})
                events = ", ".join(f"{event} ({e.get('Type')})" for event, e in events.items())
                print(f"    -  {kind} {name}" + (f" with events {events}" if events else ""))
        print(f"deploy check took {time.time() - started:.1f}s")
        if checks.failed:
            sys.exit(f"{len(checks.failed)} check(s) failed")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
