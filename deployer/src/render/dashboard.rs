//! The stage's CloudWatch dashboard body. Pure: names in, JSON out.
//!
//! The body is a CloudFormation `!Sub` string: the region, partition and
//! account (`${AWS::Region}`, ...) and the HTTP API's id (`${HttpApi}`) are
//! filled in by CloudFormation. Alarms are named by ARN, built from their
//! names (the emulator cannot resolve an alarm's `Arn` attribute). The `Countries` widgets are drawn from the metric
//! list the app emits ([`crate::metrics::list`]), one widget per group, so a
//! new metric shows up here without touching this file.

use serde::Serialize;
use serde_json::{Value, json};

use crate::metrics::list::{self, MetricDef};

/// The alarms of the stack, shown at the top of the dashboard: their names
/// after `countries-<stage>-`. A test checks this against the rendered stack.
/// The last, [`BUDGET_ALARM`], only a stage with a monthly upstream budget has.
pub const ALARMS: [&str; 9] = [
    "dlq-not-empty",
    "oldest-fetch-request",
    "breaker-opened",
    "api-errors",
    "api-5xx",
    "worker-errors",
    "api-throttles",
    "worker-throttles",
    BUDGET_ALARM,
];

/// The monthly upstream budget's 80 % alarm (`UpstreamBudgetAlarm`).
pub const BUDGET_ALARM: &str = "upstream-budget-80-percent";

/// The widgets' period: CloudWatch's standard resolution.
const PERIOD: u32 = 60;
/// Widgets per row (each 8 of the grid's 24 columns wide).
const PER_ROW: usize = 3;

/// What the body refers to, by name.
#[derive(Debug, Clone)]
pub struct Names<'a> {
    /// The stage (the `Stage` dimension's value).
    pub stage: &'a str,
    /// `countries-<stage>`: the dashboard's and the alarms' prefix.
    pub stack: &'a str,
    /// The api function's name.
    pub api_function: &'a str,
    /// The worker function's name.
    pub worker_function: &'a str,
    /// The fetch queue's name.
    pub queue: &'a str,
    /// The dead-letter queue's name.
    pub dlq: &'a str,
    /// The oldest-request alarm's threshold in seconds, drawn on its graph.
    pub oldest_request_seconds: u32,
    /// Whether the stage has a monthly upstream budget (and so its alarm).
    pub budget_alarm: bool,
}

/// The dashboard as the template shows it.
#[derive(Debug, Clone, Serialize)]
pub struct DashboardContext {
    /// `countries-<stage>`.
    pub name: String,
    /// The body, pretty-printed, one line each (the template indents them into a block).
    pub body_lines: Vec<String>,
}

/// One graph: title, its lines, and the statistic when one fits them all.
fn graph(title: &str, stat: Option<&str>, metrics: Vec<Value>, extra: Value) -> Value {
    let mut properties = json!({
        "title": title,
        "region": "${AWS::Region}",
        "view": "timeSeries",
        "period": PERIOD,
        "metrics": metrics,
    });
    if let Some(stat) = stat {
        properties["stat"] = json!(stat);
    }
    if let (Some(p), Some(e)) = (properties.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    json!({"type": "metric", "properties": properties})
}

/// Places a widget: position and size first, then what it shows.
fn place(widget: Value, x: usize, y: usize, width: usize, height: usize) -> Value {
    json!({"type": widget["type"], "x": x, "y": y, "width": width, "height": height, "properties": widget["properties"]})
}

/// A metric line: `[namespace, name, dimension, value, ..., options]`, the options only when set.
fn line(parts: &[&str], options: Value) -> Value {
    let mut line: Vec<Value> = parts.iter().map(|p| json!(p)).collect();
    if options.as_object().is_some_and(|o| !o.is_empty()) {
        line.push(options);
    }
    Value::Array(line)
}

/// A `Countries` metric line: `[namespace, name, "Stage", stage, "Function",
/// function, options]`, or only the `Stage` pair for a log-filter metric.
fn emf_line(stage: &str, m: &MetricDef, options: Value) -> Value {
    let mut parts: Vec<&str> = vec![&list::list().namespace, &m.name];
    for d in m.dimensions() {
        parts.extend([d.as_str(), if d == "Stage" { stage } else { &m.function }]);
    }
    line(&parts, options)
}

/// One widget per metric group: sums of counts, p50/p99/max of durations.
fn emf_widgets(stage: &str, function: &str) -> Vec<Value> {
    list::groups()
        .into_iter()
        .filter(|(_, members)| members[0].function == function)
        .map(|(group, members)| {
            if members.iter().all(|m| m.is_duration()) {
                let lines = members
                    .iter()
                    .flat_map(|m| {
                        ["p50", "p99", "Maximum"].map(|stat| {
                            emf_line(
                                stage,
                                m,
                                json!({"stat": stat, "label": format!("{} {stat}", m.name)}),
                            )
                        })
                    })
                    .collect();
                graph(&format!("{group} (ms)"), None, lines, json!({}))
            } else {
                let lines = members
                    .iter()
                    .map(|m| emf_line(stage, m, json!({})))
                    .collect();
                // A log-filter metric is a running count: its Maximum is the value.
                let stat = if members.iter().all(|m| m.is_log_filter()) {
                    "Maximum"
                } else {
                    "Sum"
                };
                graph(group, Some(stat), lines, json!({}))
            }
        })
        .collect()
}

/// The dashboard body for a stage, as JSON (with `${...}` for CloudFormation).
pub fn body(n: &Names) -> Value {
    let http = |metric: &str, options: Value| {
        line(&["AWS/ApiGateway", metric, "ApiId", "${HttpApi}"], options)
    };
    let queue = |metric: &str, queue: &str, label: &str| {
        line(
            &["AWS/SQS", metric, "QueueName", queue],
            json!({"label": label}),
        )
    };
    let both = |metric: &str| {
        vec![
            line(
                &["AWS/Lambda", metric, "FunctionName", n.api_function],
                json!({"label": "api"}),
            ),
            line(
                &["AWS/Lambda", metric, "FunctionName", n.worker_function],
                json!({"label": "worker"}),
            ),
        ]
    };

    let mut graphs = vec![
        graph(
            "API requests, 4xx and 5xx (HTTP API)",
            Some("Sum"),
            vec![
                http("Count", json!({})),
                http("4xx", json!({})),
                http("5xx", json!({})),
            ],
            json!({}),
        ),
        graph(
            "API latency (HTTP API, ms)",
            None,
            vec![
                http("Latency", json!({"stat": "p50", "label": "p50"})),
                http("Latency", json!({"stat": "p99", "label": "p99"})),
            ],
            json!({}),
        ),
    ];
    graphs.extend(emf_widgets(n.stage, "api"));
    graphs.extend(emf_widgets(n.stage, "worker"));
    graphs.extend([
        graph(
            "Fetch queue depth",
            Some("Maximum"),
            vec![
                queue("ApproximateNumberOfMessagesVisible", n.queue, "waiting"),
                queue("ApproximateNumberOfMessagesNotVisible", n.queue, "being handled or waiting to retry"),
            ],
            json!({}),
        ),
        graph(
            "Oldest fetch request (seconds waiting)",
            Some("Maximum"),
            vec![queue("ApproximateAgeOfOldestMessage", n.queue, "oldest request")],
            json!({"annotations": {"horizontal": [{"label": "alarm", "value": n.oldest_request_seconds}]}}),
        ),
        graph(
            "Dead-letter queue depth",
            Some("Maximum"),
            vec![queue("ApproximateNumberOfMessagesVisible", n.dlq, "dead letters")],
            json!({}),
        ),
        graph("Lambda duration p99 (ms)", Some("p99"), both("Duration"), json!({})),
        graph("Lambda errors", Some("Sum"), both("Errors"), json!({})),
        graph("Lambda throttles", Some("Sum"), both("Throttles"), json!({})),
    ]);

    let alarms = json!({
        "type": "alarm",
        "properties": {
            "title": format!("Alarms of {}: each one's description says what to do", n.stack),
            "alarms": ALARMS
                .iter()
                .filter(|name| n.budget_alarm || **name != BUDGET_ALARM)
                .map(|name| format!("arn:${{AWS::Partition}}:cloudwatch:${{AWS::Region}}:${{AWS::AccountId}}:alarm:{}-{name}", n.stack))
                .collect::<Vec<_>>(),
        },
    });
    let alarm_height = 3;
    let width = 24 / PER_ROW;
    let mut widgets = vec![place(alarms, 0, 0, 24, alarm_height)];
    for (i, g) in graphs.into_iter().enumerate() {
        widgets.push(place(
            g,
            (i % PER_ROW) * width,
            alarm_height + (i / PER_ROW) * 6,
            width,
            6,
        ));
    }
    json!({"start": "-PT3H", "widgets": widgets})
}

/// The body as a reviewer reads it: one widget per line, its metric lines
/// (or alarms) one per line below it.
fn lines(body: &Value) -> Vec<String> {
    const LIST: &str = "__items__";
    let mut out = vec![
        "{".to_string(),
        format!("  \"start\": {},", body["start"]),
        "  \"widgets\": [".to_string(),
    ];
    let widgets = body["widgets"].as_array().cloned().unwrap_or_default();
    for (i, widget) in widgets.iter().enumerate() {
        let comma = if i + 1 < widgets.len() { "," } else { "" };
        let key = ["metrics", "alarms"]
            .into_iter()
            .find(|k| widget["properties"][*k].is_array());
        let Some(key) = key else {
            out.push(format!("    {widget}{comma}"));
            continue;
        };
        let mut head = widget.clone();
        let items = std::mem::replace(&mut head["properties"][key], json!(LIST));
        let text = head.to_string();
        let (before, after) = text
            .split_once(&format!("\"{LIST}\""))
            .unwrap_or((&text, ""));
        out.push(format!("    {before}["));
        let items = items.as_array().cloned().unwrap_or_default();
        for (j, item) in items.iter().enumerate() {
            out.push(format!(
                "      {item}{}",
                if j + 1 < items.len() { "," } else { "" }
            ));
        }
        out.push(format!("    ]{after}{comma}"));
    }
    out.extend(["  ]".to_string(), "}".to_string()]);
    out
}

/// The template's view of it.
pub fn context(names: &Names) -> DashboardContext {
    DashboardContext {
        name: names.stack.to_string(),
        body_lines: lines(&body(names)),
    }
}

#[cfg(test)]
mod tests;
