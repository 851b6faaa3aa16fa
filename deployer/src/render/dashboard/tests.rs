use super::*;

fn names() -> Names<'static> {
    Names {
        stage: "dev",
        stack: "countries-dev",
        api_function: "countries-api-dev",
        worker_function: "countries-worker-dev",
        queue: "countries-fetch-dev",
        dlq: "countries-fetch-dlq-dev",
        oldest_request_seconds: 900,
        budget_alarm: true,
    }
}

#[test]
fn every_listed_metric_is_drawn_once_and_widgets_do_not_overlap() {
    let body = body(&names());
    let widgets = body["widgets"].as_array().unwrap();
    let mut drawn: Vec<String> = Vec::new();
    for w in widgets {
        for line in w["properties"]["metrics"].as_array().into_iter().flatten() {
            if line[0] == "Countries" {
                let name = line[1].as_str().unwrap().to_string();
                let def = list::list()
                    .metrics
                    .iter()
                    .find(|m| m.name == name)
                    .unwrap();
                // Stage and Function; Stage only for a log-filter metric.
                let want = if def.is_log_filter() {
                    vec![json!("Stage"), json!("dev")]
                } else {
                    vec![
                        json!("Stage"),
                        json!("dev"),
                        json!("Function"),
                        json!(def.function),
                    ]
                };
                let parts = line.as_array().unwrap();
                let got: Vec<Value> = parts[2..]
                    .iter()
                    .filter(|p| p.is_string())
                    .cloned()
                    .collect();
                assert_eq!(got, want, "{line}");
                if !drawn.contains(&name) {
                    drawn.push(name);
                }
            }
        }
    }
    let mut listed: Vec<String> = list::list()
        .metrics
        .iter()
        .map(|m| m.name.clone())
        .collect();
    drawn.sort();
    listed.sort();
    assert_eq!(drawn, listed);
    let mut cells = std::collections::HashSet::new();
    for w in widgets {
        let (x, y, width, height) = (
            w["x"].as_u64().unwrap(),
            w["y"].as_u64().unwrap(),
            w["width"].as_u64().unwrap(),
            w["height"].as_u64().unwrap(),
        );
        assert!(x + width <= 24, "{w}");
        for cx in x..x + width {
            for cy in y..y + height {
                assert!(cells.insert((cx, cy)), "overlap at {cx},{cy}: {w}");
            }
        }
    }
}

#[test]
fn the_body_refers_to_the_stack_only_through_sub() {
    let text = context(&names()).body_lines.join("\n");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        body(&names()),
        "the lines are the body"
    );
    for needle in [
        "${AWS::Region}",
        "${HttpApi}",
        ":alarm:countries-dev-breaker-opened\"",
        "countries-fetch-dlq-dev",
        "\"value\":900",
    ] {
        assert!(text.contains(needle), "{needle}");
    }
    // Nothing else looks like a substitution.
    let subs = text.matches("${").count();
    let known: usize = [
        "${AWS::Region}",
        "${AWS::Partition}",
        "${AWS::AccountId}",
        "${HttpApi}",
    ]
    .iter()
    .map(|k| text.matches(k).count())
    .sum();
    assert_eq!(subs, known);
}
