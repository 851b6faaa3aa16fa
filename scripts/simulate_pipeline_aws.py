"""What stands in for AWS in scripts/simulate_pipeline.py (read its top).

- `Moto`: moto's server through tools/moto_server.py on a free port (S3, STS,
  CloudFormation, DynamoDB, SQS, SNS, Lambda's control plane), and the
  foundation `terraform apply` makes there first (`make_foundation`).
- `Recorded`: CodePipeline's GetPipelineState, ListPipelineExecutions,
  ListActionExecutions and PutApprovalResult, and Lambda's
  GetAccountSettings, which moto lacks: RECORDED responses of the
  documented shapes (the approach of deployer/tests/promote.rs and
  deployer/tests/common/recorded_lambda.rs), kept in step with the run.
- `ApiStandIn`: API Gateway + Lambda for one stage's smoke tests: the api
  `bootstrap` of the zip the stage's stack names, run here as a local
  process with the function's environment, behind a proxy.
"""

import http.client
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import boto3  # from .countries/venv (moto brings it)

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"  # moto's account
REGION = "us-east-1"
PIPELINE = "countries"  # infrastructure/locals.tf pipeline_name
BUCKET = f"countries-artifacts-{ACCOUNT}-{REGION}"  # Terraform's default name
OUTPUTS_KEY = "deployer/terraform-outputs.json"  # infrastructure/locals.tf
STAGES = ["dev", "staging", "prod"]
ACCOUNT_CONCURRENCY = 1000  # Lambda's default regional quota


class Failed(Exception):
    """An expectation of the run did not hold."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, deadline, proc=None, what="server"):
    end = time.time() + deadline
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            raise Failed(f"{what} exited ({proc.returncode}) before it answered on port {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise Failed(f"{what} did not answer on port {port} within {deadline} s")


# --------------------------------------------------------------------- moto


class Moto:
    def __init__(self, work):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(work / "moto.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tools" / "moto_server.py"), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        wait_port(self.port, 60, self.proc, "moto")

    def client(self, service):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def foundation_outputs():
    """`terraform output -json` of infrastructure/ applied in moto's account (outputs.tf, outputs_file.tf)."""
    value = {
        "artifact_bucket": BUCKET,
        "alarm_topic_arn": f"arn:aws:sns:{REGION}:{ACCOUNT}:countries-notifications",
        "cloudformation_execution_role_arns": {
            s: f"arn:aws:iam::{ACCOUNT}:role/countries-delivery-{s}-cloudformation" for s in STAGES
        },
        "codedeploy_role_arns": {
            s: f"arn:aws:iam::{ACCOUNT}:role/countries-delivery-{s}-codedeploy" for s in STAGES
        },
        "pipeline_name": PIPELINE,
    }
    kinds = {"cloudformation_execution_role_arns": ["map", "string"], "codedeploy_role_arns": ["map", "string"]}
    return {k: {"sensitive": False, "type": kinds.get(k, "string"), "value": v} for k, v in value.items()}


def make_foundation(moto):
    """What `terraform apply` makes that the stages use: the bucket, the outputs file in it, the topic."""
    moto.client("s3").create_bucket(Bucket=BUCKET)
    moto.client("s3").put_object(Bucket=BUCKET, Key=OUTPUTS_KEY, Body=json.dumps(foundation_outputs()).encode())
    moto.client("sns").create_topic(Name="countries-notifications")


# ------------------------------------------------------ recorded endpoint


class Recorded:
    """CodePipeline and Lambda's GetAccountSettings: recorded answers (moto lacks them), kept in step with the run."""

    def __init__(self, moto):
        self.moto = moto
        self.lock = threading.Lock()
        self.execution = None
        self.commit = None
        self.package_digest = None
        self.stages = {}  # pipeline stage -> {"status": ..., "actions": {name: status}}
        self.token = "approval-token-1"
        self.approvals = []
        recorded = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path.rstrip("/").endswith("/2016-08-19/account-settings"):
                    self.answer(200, {
                        "AccountLimit": {"TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000,
                                         "CodeSizeZipped": 52428800, "ConcurrentExecutions": ACCOUNT_CONCURRENCY,
                                         "UnreservedConcurrentExecutions": recorded.unreserved()},
                        "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0},
                    })
                else:
                    self.answer(404, {"message": f"not recorded: GET {self.path}"})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                op = (self.headers.get("X-Amz-Target") or "").rsplit(".", 1)[-1]
                code, answer = recorded.codepipeline(op, body)
                self.answer(code, answer)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def unreserved(self):
        """The account's quota less what the emulator's stacks reserve (moto keeps no such count)."""
        cfn = self.moto.client("cloudformation")
        reserved = 0
        for stack in cfn.describe_stacks()["Stacks"]:
            if stack["StackStatus"].endswith("_COMPLETE") and stack["StackStatus"] != "DELETE_COMPLETE":
                body = cfn.get_template(StackName=stack["StackName"])["TemplateBody"]
                reserved += sum(int(n) for n in re.findall(r"ReservedConcurrentExecutions: (\d+)", str(body)))
        return ACCOUNT_CONCURRENCY - reserved

    def start_execution(self, execution, commit):
        with self.lock:
            self.execution, self.commit = execution, commit
            self.stages = {"Source": {"status": "Succeeded", "actions": {"Source": "Succeeded"}}}

    def action(self, stage, action, status):
        with self.lock:
            entry = self.stages.setdefault(stage, {"status": "InProgress", "actions": {}})
            entry["actions"][action] = status
            statuses = set(entry["actions"].values())
            entry["status"] = "InProgress" if statuses & {"InProgress"} else (
                "Failed" if "Failed" in statuses else "Succeeded")

    def codepipeline(self, op, body):
        t = time.time()
        with self.lock:
            if op == "GetPipelineState":
                states = []
                for name, entry in self.stages.items():
                    actions = []
                    for action, status in entry["actions"].items():
                        latest = {"actionExecutionId": f"{name}-{action}", "status": status, "lastStatusChange": t}
                        if action == "Approve" and status == "InProgress":
                            latest["token"] = self.token
                        state = {"actionName": action, "latestExecution": latest}
                        if action == "Source":
                            state["currentRevision"] = {"revisionId": self.commit}
                        actions.append(state)
                    states.append({"stageName": name, "actionStates": actions,
                                   "latestExecution": {"pipelineExecutionId": self.execution, "status": entry["status"]}})
                return 200, {"pipelineName": PIPELINE, "pipelineVersion": 1, "created": t, "updated": t,
                             "stageStates": states}
            if op == "ListPipelineExecutions":
                return 200, {"pipelineExecutionSummaries": [{
                    "pipelineExecutionId": self.execution, "status": "InProgress", "startTime": t,
                    "lastUpdateTime": t, "executionMode": "SUPERSEDED",
                    "sourceRevisions": [{"actionName": "Source", "revisionId": self.commit}],
                    "trigger": {"triggerType": "CloudWatchEvent"}}]}
            if op == "ListActionExecutions":
                details = []
                if self.package_digest:
                    details.append({
                        "pipelineExecutionId": self.execution, "actionExecutionId": "Build-Build",
                        "pipelineVersion": 1, "stageName": "Build", "actionName": "Build", "startTime": t,
                        "lastUpdateTime": t, "status": "Succeeded",
                        "output": {"outputVariables": {"PACKAGE_DIGEST": self.package_digest}}})
                return 200, {"actionExecutionDetails": details}
            if op != "PutApprovalResult":
                return 400, {"__type": "ValidationException", "message": f"not recorded: {op}"}
            waiting = self.stages.get(body.get("stageName"), {}).get("actions", {}).get(body.get("actionName"))
            if body.get("token") != self.token or waiting != "InProgress":
                return 400, {"__type": "InvalidApprovalTokenException", "message": "The token is not valid"}
            self.approvals.append(body)
        self.action(body["stageName"], body["actionName"],
                    "Succeeded" if body["result"]["status"] == "Approved" else "Failed")
        return 200, {"approvedAt": t}

    def stop(self):
        self.server.shutdown()


# --------------------------------------------------------- the API stand-in


class ApiStandIn:
    """API Gateway + Lambda for one stage: the api bootstrap out of the zip its stack names, run here."""

    def __init__(self, stage, moto, work):
        self.stage, self.moto, self.work = stage, moto, work
        self.lock = threading.Lock()
        self.key = None
        self.proc = None
        self.backend = None
        self.served = set()  # the artifact keys it ran
        stand_in = self

        class Proxy(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def forward(self):
                backend = stand_in.ensure()
                if backend is None:
                    data = b'{"message":"Service Unavailable"}'
                    self.send_response(503)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                conn = http.client.HTTPConnection("127.0.0.1", backend, timeout=10)
                conn.request(self.command, self.path, self.rfile.read(length) if length else None,
                             {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")})
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_HEAD = forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def ensure(self):
        """The port of an api running the zip the stack names now; None while there is no stack."""
        with self.lock:
            cfn = self.moto.client("cloudformation")
            try:
                stack = cfn.describe_stacks(StackName=f"countries-{self.stage}")["Stacks"][0]
            except Exception:
                return None
            params = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
            key = params.get("ApiArtifactKey")
            if key is None or not stack["StackStatus"].endswith("_COMPLETE"):
                return None
            if key != self.key:
                self.start(key)
            return self.backend

    def start(self, key):
        self.stop_process()
        folder = self.work / "lambda" / self.stage / key.replace("/", "_")
        folder.mkdir(parents=True, exist_ok=True)
        blob = self.moto.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
        zip_path = folder / "code.zip"
        zip_path.write_bytes(blob)
        with zipfile.ZipFile(zip_path) as z:
            z.extract("bootstrap", folder)
        (folder / "bootstrap").chmod(0o755)
        function = self.moto.client("lambda").get_function_configuration(FunctionName=f"countries-api-{self.stage}")
        env = dict(function.get("Environment", {}).get("Variables", {}))
        if not env:
            raise Failed(f"countries-api-{self.stage} has no environment in the emulator")
        self.backend = free_port()
        env.update({"PATH": os.environ.get("PATH", ""), "PORT": str(self.backend),
                    "AWS_ENDPOINT_URL": self.moto.endpoint, "AWS_REGION": REGION,
                    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
        log = open(folder / "api.log", "a")
        self.proc = subprocess.Popen([str(folder / "bootstrap")], env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_port(self.backend, 20, self.proc, f"the {self.stage} api ({key})")
        self.key = key
        self.served.add(key)

    def stop_process(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def stop(self):
        self.server.shutdown()
        with self.lock:
            self.stop_process()
