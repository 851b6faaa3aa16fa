//! `deployer plan <stage>`: what `up` would do, as a table, Markdown or JSON;
//! the change set it creates is deleted again.

use std::path::Path;

use crate::aws::cloudformation::Stacks;
use crate::cli::{GlobalArgs, PlanArgs};
use crate::deploy::engine::{self, Remote};
use crate::deploy::policy::Policy;
use crate::deploy::{self, Deployment};
use crate::error::{Result, SessionError};
use crate::github;
use crate::plan::ChangeSetType;
use crate::plan::render::{self, ConfigDiff, Format};
use crate::render::GENERATED_DIR;
use crate::session;

/// Builds the plan for a stage, prints it, and discards the change set.
pub fn run(root: &Path, global: &GlobalArgs, args: &PlanArgs) -> Result<()> {
    let stage = session::one_stage(root, &args.stage)?;
    let format = if global.json {
        Format::Json
    } else {
        args.format
    };
    let post = match (args.post_to_pr, format) {
        (None, _) => None,
        (Some(pr), Format::Markdown) => match (pr, repository(args)?) {
            (pr, Some(repo)) => Some((pr, repo)),
            // `auto` is best effort, like the comment itself: the plan goes on.
            (github::PullRequest::Auto, None) => {
                session::say(
                    "pull-request comment skipped: no repository to post to (set DEPLOYER_GITHUB_REPOSITORY or --repository)",
                );
                None
            }
            (github::PullRequest::Number(_), None) => return Err(no_repository(String::new())),
        },
        (Some(pr), _) => {
            return Err(SessionError::InvalidArgument {
                flag: "--post-to-pr".into(),
                value: pr.to_string(),
                expected: "--format markdown with it (the comment is the Markdown plan)".into(),
            }
            .into());
        }
    };
    let target = session::target_for(&stage, global);
    if stage.spec.local.is_some() {
        crate::local::emulator::running(&target, &stage.name)?;
    }
    let runtime = session::runtime()?;
    let clients = session::checked_clients(&runtime, &stage, global)?;
    let d = Deployment::gather(
        root,
        &stage,
        global.outputs_file.as_deref(),
        args.artifacts.as_deref(),
        &[],
        &session::say,
    )?;
    runtime.block_on(async {
        let remote = Remote::of(&clients);
        let dp = engine::plan(&remote, d, &Policy::display(&stage), &deploy::now_rfc3339()).await?;
        let (plan, d) = (&dp.plan, &dp.deployment);
        let discarded = engine::discard(&clients.cloudformation, plan).await;
        // The steps `up` takes before the change set (a local stage's missing bucket or
        // stuck stack); the JSON stays the plan value alone.
        let mut text = match format {
            Format::Text => render::steps_text(&dp.prelude),
            Format::Markdown => render::steps_markdown(&dp.prelude),
            Format::Json => String::new(),
        };
        if format == Format::Markdown && plan.changes {
            // A reviewer needs what the merge changes in the running stage: the
            // committed generated/<stage>/stack.yaml (checked equal to a fresh
            // render by `gather`) against the template the stack runs now.
            let deployed = match plan.change_set_type {
                ChangeSetType::Update => {
                    Some(clients.cloudformation.template(&d.stack_name).await?)
                }
                ChangeSetType::Create => None,
            };
            let path = format!("{GENERATED_DIR}/{}/stack.yaml", stage.name);
            let diff = ConfigDiff::new(&path, deployed.as_deref(), &d.template);
            text.push_str(&render::markdown_with_diff(plan, Some(&diff)));
        } else {
            text.push_str(&render::render(plan, format));
        }
        print!("{text}");
        if let Some(to) = &post {
            let commit = plan.git_commit.as_str();
            post_comment(root, global, &stage, &clients.target, to, commit, &text).await;
        }
        discarded
    })
}

/// `--repository`, or the repository CodeBuild checked out (`CODEBUILD_SOURCE_REPO_URL`);
/// `None` when neither names one, an error when the one given is not `owner/name`.
fn repository(args: &PlanArgs) -> Result<Option<String>> {
    let from_codebuild = std::env::var("CODEBUILD_SOURCE_REPO_URL")
        .ok()
        .and_then(|url| {
            let path = url
                .trim_end_matches(".git")
                .split("github.com/")
                .nth(1)?
                .to_string();
            Some(path)
        });
    let Some(repo) = args.repository.clone().or(from_codebuild) else {
        return Ok(None);
    };
    let well_formed = repo.split('/').count() == 2 && repo.split('/').all(|p| !p.is_empty());
    if well_formed {
        Ok(Some(repo))
    } else {
        Err(no_repository(repo))
    }
}

fn no_repository(value: String) -> crate::error::Error {
    SessionError::InvalidArgument {
        flag: "--repository".into(),
        value,
        expected: "owner/name of the pull request's repository (or DEPLOYER_GITHUB_REPOSITORY)"
            .into(),
    }
    .into()
}

/// Posts (or updates) the plan comment; says what happened on stderr and never fails the plan.
async fn post_comment(
    root: &Path,
    global: &GlobalArgs,
    stage: &crate::stage::Stage,
    target: &crate::aws::Target,
    (pr, repo): &(github::PullRequest, String),
    commit: &str,
    text: &str,
) {
    let outputs = match stage.spec.local {
        Some(_) => crate::outputs::local(),
        None => match crate::outputs::read(root, stage, global.outputs_file.as_deref()) {
            Ok(o) => o,
            Err(e) => {
                session::say(&format!("pull-request comment skipped: {e}"));
                return;
            }
        },
    };
    let token = match github::token(&outputs, target).await {
        Ok(t) => t,
        Err(why) => {
            session::say(&format!("pull-request comment skipped: {why}"));
            return;
        }
    };
    let api = std::env::var(github::API_ENV).unwrap_or_else(|_| github::DEFAULT_API.into());
    match github::upsert(&api, repo, *pr, commit, &token, &stage.name, text).await {
        Ok((pr, github::Posted::Created(id))) => session::say(&format!(
            "posted the {} plan on {repo}#{pr} (new comment {id})",
            stage.name
        )),
        Ok((pr, github::Posted::Updated(id))) => session::say(&format!(
            "updated the {} plan in the comment {id} on {repo}#{pr}",
            stage.name
        )),
        Err(why) => session::say(&format!("pull-request comment not posted: {why}")),
    }
}
