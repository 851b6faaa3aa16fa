//! The pipeline's first real run, simulated end to end: scripts/simulate_pipeline.py
//! runs buildspec.yml's own phases for each action of infrastructure/pipeline.tf
//! (Build -> dev/Deploy -> staging/Promote -> prod/Approve -> prod/Promote, a
//! pull request's Plan, and a Build of a commit whose generated/ is stale) on a
//! bootstrapped copy of this checkout, with AWS at moto and CodePipeline's and
//! Lambda's calls that moto lacks at a recorded endpoint (see the script's
//! top). This test runs it and checks what a person would: one commit reached
//! prod with the digests the Build made, the approval carried them, the stale
//! Build stopped the pipeline, and the pull request got its plan.md.

use crate::common;

use std::process::Command;
use std::time::Instant;

use serde_json::Value;

#[test]
fn one_commit_reaches_prod_with_the_digests_it_was_built_with() {
    // The driver runs in the moto venv (boto3, PyYAML); installed on first use.
    let python = testkit::moto_server_path().with_file_name("python");
    let dir = tempfile::tempdir().expect("tempdir");
    let report_path = dir.path().join("report.json");
    let started = Instant::now();
    let mut cmd = Command::new(&python);
    cmd.arg(common::repo_root().join("scripts/simulate_pipeline.py"))
        .arg("--report")
        .arg(&report_path)
        .stdin(std::process::Stdio::null());
    for var in common::PIPELINE_VARIABLES.iter().chain(&[
        "DEPLOYER_OUTPUTS_FILE",
        "DEPLOYER_ROOT",
        "AWS_PROFILE",
        "TEST_SKIP",
    ]) {
        cmd.env_remove(var);
    }
    let out = cmd.output().expect("run scripts/simulate_pipeline.py");
    let took = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: Value = std::fs::read_to_string(&report_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| panic!("no report from the simulation:\n{stderr}"));
    assert!(
        out.status.success() && report["ok"] == true,
        "the simulated pipeline failed: {}\n{stderr}",
        report["error"]
    );
    eprintln!("{stderr}");
    eprintln!("simulated pipeline: {took:.1}s");

    let commit = report["commit"].as_str().expect("commit");
    let built = &report["built"];
    let digest = report["package_digest"].as_str().expect("package digest");
    assert_eq!(digest.len(), 64);
    let actions: Vec<(&str, &str)> = report["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| (a["action"].as_str().unwrap(), a["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            ("Build", "Succeeded"),
            ("dev/Deploy", "Succeeded"),
            ("staging/Promote", "Succeeded"),
            ("prod/Approve", "Succeeded"),
            ("prod/Promote", "Succeeded"),
        ]
    );
    for action in report["actions"].as_array().unwrap() {
        match action["action"].as_str().unwrap() {
            "prod/Approve" => {
                // The approval named the commit and the package the Build made.
                assert_eq!(action["commit"], commit);
                assert_eq!(action["package_digest"], digest);
            }
            "Build" => {
                assert_eq!(action["exported"]["PACKAGE_DIGEST"], digest);
                // The zips a real Build makes (cloud profile) stay within the 3 MB budget.
                for function in ["api", "worker"] {
                    let size = action["zip_bytes"][function].as_u64().expect("zip size");
                    eprintln!("{function} zip (cloud profile): {size} bytes");
                    assert!(
                        size <= 3_000_000,
                        "the {function} zip is {size} bytes, over 3 MB"
                    );
                }
            }
            deploy => {
                // Each stage runs the Build's zips, and its smoke test reached an
                // api started from exactly the zip its stack names.
                assert_eq!(&action["digests"], built, "{deploy}");
                let api = built["api"].as_str().unwrap();
                assert_eq!(
                    action["api_served"],
                    serde_json::json!([format!("functions/api/{api}.zip")]),
                    "{deploy}"
                );
            }
        }
    }
    // What `deployer status` says afterwards: every stage on that commit and those digests.
    for stage in ["dev", "staging", "prod"] {
        let row = report["status"]["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stage"] == stage)
            .expect("status row");
        assert_eq!(row["git_commit"], commit, "{stage}");
        assert_eq!(row["api_digest"], built["api"], "{stage}");
        assert_eq!(row["worker_digest"], built["worker"], "{stage}");
        let tags = &report["stack_tags"][stage];
        assert_eq!(
            tags["countries:pipeline-execution"], report["execution_id"],
            "{stage}"
        );
        assert_eq!(tags["countries:pipeline"], "countries", "{stage}");
    }
    assert_eq!(report["approvals"][0]["result"]["status"], "Approved");

    // A commit whose generated/ is stale fails Build (scripts/test.sh's check) and hands on nothing.
    let stale = &report["stale_generated"];
    assert!(
        stale["status"].as_str().unwrap().starts_with("Failed"),
        "{stale}"
    );
    assert!(stale.get("artifact").is_none(), "{stale}");
    assert!(
        stale["says"].as_str().unwrap().contains(
            "generated files are stale: generated/dev/app-config.json, generated/dev/stack.yaml"
        ),
        "{stale}"
    );

    // The pull request's Plan: plan.md with a section per stage, dev's change in it.
    let pr = &report["pull_request"];
    assert_eq!(pr["status"], "Succeeded");
    let plan = pr["plan_md"].as_str().unwrap();
    for stage in ["dev", "staging", "prod"] {
        assert!(plan.contains(&format!("### Stage `{stage}`")), "{plan}");
    }
    assert!(
        plan.contains("| Modify | ApiFunction | AWS::Lambda::Function |")
            && plan.contains("-      MemorySize: 256\n+      MemorySize: 384"),
        "{plan}"
    );
    assert_eq!(
        plan.matches("No changes: the stack (CREATE_COMPLETE) already runs")
            .count(),
        2,
        "{plan}"
    );
}
