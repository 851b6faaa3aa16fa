//! A checker for CloudWatch Embedded Metric Format lines, written from the
//! format's specification and independent of the code that writes them.

use serde_json::Value;

const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Checks one line against the Embedded Metric Format specification: a JSON
/// object whose `_aws` member holds a millisecond `Timestamp` and metric
/// directives (namespace; dimension sets of at most 30 names, each naming a
/// string member; 1-100 metric definitions, each naming a member that holds a
/// number or at most 100 numbers, with a CloudWatch unit). Returns the names
/// and values it defines.
pub fn check_emf(line: &Value, function: &str, window: (i64, i64)) -> Vec<(String, Value)> {
    let aws = line["_aws"].as_object().expect("_aws is an object");
    let ts = aws["Timestamp"].as_i64().expect("Timestamp is an integer");
    assert!(
        (window.0..=window.1).contains(&ts),
        "Timestamp {ts} is milliseconds within the run {window:?}"
    );
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .expect("CloudWatchMetrics is an array");
    assert_eq!(directives.len(), 1, "{line}");
    let mut defined = Vec::new();
    for d in directives {
        let namespace = d["Namespace"].as_str().expect("Namespace is a string");
        assert!((1..=1024).contains(&namespace.len()));
        assert_eq!(namespace, "Countries");
        let sets = d["Dimensions"].as_array().expect("Dimensions is an array");
        assert_eq!(
            sets,
            &vec![serde_json::json!(["Stage", "Function"])],
            "{line}"
        );
        for set in sets {
            let names = set.as_array().expect("a dimension set is an array");
            assert!(names.len() <= 30);
            for name in names {
                let value = line[name.as_str().expect("a dimension is named by a string")].as_str();
                assert!(
                    value.is_some_and(|v| !v.is_empty() && v.len() <= 1024),
                    "dimension {name} has a string value: {line}"
                );
            }
        }
        assert_eq!(
            (line["Stage"].as_str(), line["Function"].as_str()),
            (Some("local"), Some(function))
        );
        let metrics = d["Metrics"].as_array().expect("Metrics is an array");
        assert!((1..=100).contains(&metrics.len()), "{line}");
        for m in metrics {
            let name = m["Name"].as_str().expect("Name is a string");
            assert!((1..=1024).contains(&name.len()));
            let unit = m["Unit"].as_str().expect("Unit is set");
            assert!(UNITS.contains(&unit), "{unit}");
            if let Some(resolution) = m.get("StorageResolution") {
                assert!(resolution == 1 || resolution == 60);
            }
            let value = &line[name];
            let numbers_ok = match value {
                Value::Number(_) => true,
                Value::Array(items) => {
                    !items.is_empty() && items.len() <= 100 && items.iter().all(Value::is_number)
                }
                _ => false,
            };
            assert!(
                numbers_ok,
                "metric {name} holds a number or up to 100 numbers: {line}"
            );
            // The list the deployer renders the dashboard from: same name, unit and function.
            let listed = deployer::metrics::list::list()
                .metrics
                .iter()
                .find(|l| l.name == name)
                .unwrap_or_else(|| panic!("{name} is not in app/metrics.json"));
            assert_eq!(
                (listed.unit.as_str(), listed.function.as_str()),
                (unit, function),
                "{name}"
            );
            defined.push((name.to_string(), value.clone()));
        }
    }
    defined
}
