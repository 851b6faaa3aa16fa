//! An AWS failure is classified where the SDK error is at hand. With no
//! credential source at all the SDK says "the credential provider was not
//! enabled": today that is exit 1 with the credentials hint (only a provider
//! that failed while loading is "no usable AWS credentials", exit 2). No
//! network: `plan` checks the account before anything else.

use crate::common;

#[test]
fn no_credential_source_exit_1_with_a_credentials_hint() {
    let root = common::fixture_root();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_deployer"));
    cmd.arg("--root").arg(root.path()).args(["plan", "qa"]);
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "DEPLOYER_OUTPUTS_FILE",
        "DEPLOYER_ROOT",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(std::process::Stdio::null());
    let out = cmd.output().expect("run deployer");
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("GetCallerIdentity failed: dispatch failure")
            && stderr.contains("the credential provider was not enabled"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: configure AWS credentials"),
        "{stderr}"
    );
}
