//! `deployer drift <stage>`. moto has no drift detection, so CloudFormation's
//! three calls are answered by `Recorded`: a local HTTP server replaying
//! RECORDED answers of the documented shape (DetectStackDrift,
//! DescribeStackDriftDetectionStatus, DescribeStackResourceDrifts: the AWS
//! query protocol's XML, trimmed to the fields the deployer reads), reached
//! through AWS_ENDPOINT_URL_CLOUDFORMATION; STS (the account guard) is moto.

use crate::common;

use std::sync::{Arc, Mutex};

const NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";

fn recorded_answer(action: &str, drifted: bool) -> String {
    let body = match action {
        "DetectStackDrift" => "<DetectStackDriftResult><StackDriftDetectionId>b78ac9b0-dec1-11e7-a451-50d5cd92b8ae</StackDriftDetectionId></DetectStackDriftResult>".to_string(),
        "DescribeStackDriftDetectionStatus" => format!(
            "<DescribeStackDriftDetectionStatusResult><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/countries-qa/1</StackId><StackDriftDetectionId>b78ac9b0-dec1-11e7-a451-50d5cd92b8ae</StackDriftDetectionId><StackDriftStatus>{}</StackDriftStatus><DetectionStatus>DETECTION_COMPLETE</DetectionStatus><DriftedStackResourceCount>{}</DriftedStackResourceCount><Timestamp>2026-11-28T04:45:20.123Z</Timestamp></DescribeStackDriftDetectionStatusResult>",
            if drifted { "DRIFTED" } else { "IN_SYNC" },
            if drifted { 2 } else { 0 }
        ),
        "DescribeStackResourceDrifts" if drifted => "<DescribeStackResourceDriftsResult><StackResourceDrifts>\
<member><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/countries-qa/1</StackId><LogicalResourceId>ApiFunction</LogicalResourceId><PhysicalResourceId>countries-api-qa</PhysicalResourceId><ResourceType>AWS::Lambda::Function</ResourceType><StackResourceDriftStatus>MODIFIED</StackResourceDriftStatus><Timestamp>2026-11-28T04:45:20.123Z</Timestamp>\
<PropertyDifferences><member><PropertyPath>/MemorySize</PropertyPath><ExpectedValue>256</ExpectedValue><ActualValue>1024</ActualValue><DifferenceType>NOT_EQUAL</DifferenceType></member>\
<member><PropertyPath>/Environment/Variables/LOG_LEVEL</PropertyPath><ExpectedValue>info</ExpectedValue><ActualValue>debug</ActualValue><DifferenceType>NOT_EQUAL</DifferenceType></member></PropertyDifferences></member>\
<member><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/countries-qa/1</StackId><LogicalResourceId>ApiErrorsAlarm</LogicalResourceId><PhysicalResourceId>countries-qa-api-errors</PhysicalResourceId><ResourceType>AWS::CloudWatch::Alarm</ResourceType><StackResourceDriftStatus>DELETED</StackResourceDriftStatus><Timestamp>2026-11-28T04:45:20.123Z</Timestamp></member>\
</StackResourceDrifts></DescribeStackResourceDriftsResult>".to_string(),
        "DescribeStackResourceDrifts" => "<DescribeStackResourceDriftsResult><StackResourceDrifts/></DescribeStackResourceDriftsResult>".to_string(),
        other => panic!("the deployer called {other}, which drift does not need"),
    };
    format!(
        "<{action}Response xmlns=\"{NS}\">{body}<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></{action}Response>"
    )
}

/// The recorded CloudFormation endpoint; records each request's form body.
fn recorded(drifted: bool) -> (String, Arc<Mutex<Vec<String>>>) {
    let calls: Arc<Mutex<Vec<String>>> = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let seen = calls.clone();
    std::thread::spawn(move || {
        common::runtime().block_on(async move {
            let app = axum::Router::new().fallback(move |body: String| {
                let seen = seen.clone();
                async move {
                    let action = body
                        .split('&')
                        .find_map(|p| p.strip_prefix("Action="))
                        .unwrap_or_default()
                        .to_string();
                    seen.lock().unwrap().push(body);
                    (
                        [("content-type", "text/xml")],
                        recorded_answer(&action, drifted),
                    )
                }
            });
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        })
    });
    (endpoint, calls)
}

fn run_drift(args: &[&str], endpoint: &str) -> (Option<i32>, String, String) {
    let root = common::templates_root();
    let stage = "account: \"123456789012\"\nregion: us-east-1\nterraform_outputs:\n  file: outputs.json\napp:\n  architecture: x86_64\n  log_level: info\n  api: {memory_mb: 256, timeout_seconds: 10}\n  worker: {memory_mb: 256, timeout_seconds: 30}\n  upstream: {provider: v3, base_url: 'https://countries.example.com'}\n";
    std::fs::write(root.path().join("stages/qa.yaml"), stage).unwrap();
    let out = common::emulator_command(root.path(), args)
        .env("AWS_ENDPOINT_URL_CLOUDFORMATION", endpoint)
        .output()
        .unwrap();
    let (stdout, stderr) = common::texts(&out);
    (out.status.code(), stdout, stderr)
}

#[test]
fn a_drifted_stack_lists_each_resource_and_its_differences_and_exits_1() {
    let (endpoint, calls) = recorded(true);
    let (code, stdout, stderr) = run_drift(&["drift", "qa"], &endpoint);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("stack countries-qa: DRIFTED"), "{stdout}");
    assert!(
        stdout
            .contains("ApiFunction     AWS::Lambda::Function   MODIFIED  /MemorySize (NOT_EQUAL)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("/Environment/Variables/LOG_LEVEL (NOT_EQUAL)  info      debug"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ApiErrorsAlarm  AWS::CloudWatch::Alarm  DELETED"),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "error: stack countries-qa has drifted: 2 resource(s) differ from its template"
        ),
        "{stderr}"
    );
    let calls = calls.lock().unwrap();
    assert!(
        calls[0].contains("Action=DetectStackDrift") && calls[0].contains("StackName=countries-qa"),
        "{calls:?}"
    );
    // Only what differs is asked for.
    let last = calls.last().unwrap();
    assert!(
        last.contains("StackResourceDriftStatusFilters.member.1=MODIFIED")
            && last.contains("StackResourceDriftStatusFilters.member.2=DELETED"),
        "{last}"
    );

    // --json: the same, as one document.
    let (endpoint, _) = recorded(true);
    let (code, stdout, _) = run_drift(&["drift", "qa", "--json"], &endpoint);
    assert_eq!(code, Some(1));
    let doc: serde_json::Value =
        serde_json::from_str(stdout.split("\n{\n  \"error\"").next().unwrap())
            .unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(doc["drift_status"], "DRIFTED");
    assert_eq!(doc["drifted"][0]["differences"][0]["actual"], "1024");
    assert_eq!(doc["drifted"][1]["status"], "DELETED");
}

#[test]
fn a_stack_in_sync_exits_0() {
    let (endpoint, _) = recorded(false);
    let (code, stdout, stderr) = run_drift(&["drift", "qa"], &endpoint);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("stack countries-qa: IN_SYNC"), "{stdout}");
    assert!(
        stdout.contains("every resource matches the template"),
        "{stdout}"
    );
}
