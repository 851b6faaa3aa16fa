//! Following an update that a rollback trigger rolled back: the deployer
//! names the alarm that fired, shows the events and fails (exit 1). moto never
//! raises an alarm or rolls back, so DescribeStackEvents and DescribeStacks
//! are answered by a local HTTP server replaying RECORDED answers of the
//! documented shape (the AWS query protocol's XML, trimmed to the fields the
//! deployer reads). CloudFormation's exact wording of the reason is not
//! documented; the deployer matches the alarm's name or ARN wherever it
//! appears, so the recording words it as the console shows it.

use crate::common;

use deployer::aws::cloudformation::CloudFormation;
use deployer::deploy::execute::by_alarm;
use deployer::deploy::follow;
use deployer::deploy::progress::Display;
use deployer::error::{DeployError, Error};

const NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
const STACK: &str = "arn:aws:cloudformation:us-east-1:111111111111:stack/countries-prod/1";

fn event(id: u32, status: &str, reason: &str) -> String {
    format!(
        "<member><StackId>{STACK}</StackId><EventId>{id}</EventId><StackName>countries-prod</StackName><LogicalResourceId>countries-prod</LogicalResourceId><ResourceType>AWS::CloudFormation::Stack</ResourceType><Timestamp>2026-11-28T04:5{id}:20.123Z</Timestamp><ResourceStatus>{status}</ResourceStatus><ResourceStatusReason>{reason}</ResourceStatusReason></member>"
    )
}

fn recorded_answer(action: &str) -> String {
    let body = match action {
        // Newest first, as CloudFormation returns them.
        "DescribeStackEvents" => format!(
            "<DescribeStackEventsResult><StackEvents>{}{}{}</StackEvents></DescribeStackEventsResult>",
            event(3, "UPDATE_ROLLBACK_COMPLETE", ""),
            event(
                2,
                "UPDATE_ROLLBACK_IN_PROGRESS",
                "The following rollback trigger(s) are in ALARM state: arn:aws:cloudwatch:us-east-1:111111111111:alarm:countries-prod-api-5xx"
            ),
            event(1, "UPDATE_IN_PROGRESS", "User Initiated"),
        ),
        "DescribeStacks" => format!(
            "<DescribeStacksResult><Stacks><member><StackId>{STACK}</StackId><StackName>countries-prod</StackName><StackStatus>UPDATE_ROLLBACK_COMPLETE</StackStatus><CreationTime>2026-11-28T04:40:20.123Z</CreationTime></member></Stacks></DescribeStacksResult>"
        ),
        other => panic!("following a stack needs no {other}"),
    };
    format!(
        "<{action}Response xmlns=\"{NS}\">{body}<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></{action}Response>"
    )
}

fn recorded() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        common::runtime().block_on(async move {
            let app = axum::Router::new().fallback(|body: String| async move {
                let action = body
                    .split('&')
                    .find_map(|p| p.strip_prefix("Action="))
                    .unwrap_or_default()
                    .to_string();
                ([("content-type", "text/xml")], recorded_answer(&action))
            });
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        })
    });
    endpoint
}

#[test]
fn a_rollback_by_a_trigger_names_the_alarm_and_exits_1() {
    let endpoint = recorded();
    let triggers: Vec<String> = ["api-errors", "api-5xx", "worker-errors"]
        .iter()
        .map(|a| format!("arn:aws:cloudwatch:us-east-1:111111111111:alarm:countries-prod-{a}"))
        .collect();
    let err = common::runtime().block_on(async {
        let cfn = CloudFormation::new(&common::sdk(&endpoint).await);
        let display = Display::new(true);
        let poll = std::time::Duration::from_millis(10);
        let followed = follow(&cfn, STACK, "countries-prod", None, poll, false, &display).await;
        by_alarm(followed.unwrap_err(), &triggers)
    });
    let Error::Deploy(DeployError::RolledBackByAlarm { alarms, events, .. }) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(alarms, &["countries-prod-api-5xx"]);
    assert!(
        events[0].contains("UPDATE_ROLLBACK_IN_PROGRESS"),
        "{events:?}"
    );
    let message = err.to_string();
    assert!(
        message.starts_with("CloudFormation rolled countries-prod back (UPDATE_ROLLBACK_COMPLETE): countries-prod-api-5xx went to ALARM during the release; the stage runs what it ran before:"),
        "{message}"
    );
    assert_eq!(err.exit_code(), 1);
    assert!(
        err.hint().contains("What happens when a release goes bad"),
        "{}",
        err.hint()
    );
}
