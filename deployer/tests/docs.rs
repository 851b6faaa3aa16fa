//! docs/stages.md documents every stage file key and every required output.

use crate::common;

fn keys(value: &yaml_serde::Value, out: &mut Vec<String>) {
    if let Some(map) = value.as_mapping() {
        for (k, v) in map {
            out.push(k.as_str().expect("string key").to_string());
            keys(v, out);
        }
    }
}

#[test]
fn every_stage_file_key_is_documented() {
    let doc = std::fs::read_to_string(common::repo_root().join("docs/stages.md"))
        .expect("docs/stages.md");
    let mut all = vec!["chdir".to_string()]; // the fixtures use `file:`
    for stage in ["qa", "sandbox"] {
        let path = common::fixtures().join(format!("stages/{stage}.yaml"));
        let text = std::fs::read_to_string(&path).expect("fixture");
        let spec = deployer::stage::load::parse(&path, &text).expect("fixture parses");
        keys(&yaml_serde::to_value(&spec).expect("serializes"), &mut all);
    }
    let undocumented: Vec<&String> = all
        .iter()
        .filter(|k| !["project", "cost-center"].contains(&k.as_str())) // tag names, not fields
        .filter(|k| !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/stages.md does not mention: {undocumented:?}"
    );
}

#[test]
fn every_required_output_is_documented() {
    let doc = std::fs::read_to_string(common::repo_root().join("docs/stages.md"))
        .expect("docs/stages.md");
    let contract = std::fs::read_to_string(common::repo_root().join("docs/contract.md"))
        .expect("docs/contract.md");
    for output in deployer::outputs::REQUIRED {
        assert!(
            doc.contains(&format!("`{}`", output.name)),
            "docs/stages.md lacks {}",
            output.name
        );
        assert!(
            contract.contains(&format!("`{}`", output.name)),
            "docs/contract.md lacks {}",
            output.name
        );
    }
}

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literals that follow `marker` in `text` and look like variable names.
fn names_after(text: &str, marker: &str, out: &mut std::collections::BTreeSet<String>) {
    for (at, _) in text.match_indices(marker) {
        let rest = &text[at + marker.len()..];
        let name: String = rest.chars().take_while(|c| *c != '"').collect();
        if !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            out.insert(name);
        }
    }
}

/// The README and docs/, where a variable is documented as `NAME`.
fn all_docs() -> String {
    let root = common::repo_root();
    let mut text = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        text.push_str(&std::fs::read_to_string(entry.expect("entry").path()).expect("doc"));
    }
    text
}

#[test]
fn every_environment_variable_the_code_reads_is_documented() {
    let root = common::repo_root();
    let mut files = Vec::new();
    sources(&root.join("deployer/src"), &mut files);
    sources(&root.join("app/src"), &mut files);
    let mut read = std::collections::BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("source");
        // std::env::var("X") / var_os("X"); clap's `env = "X"`; `const X_ENV: &str = "X"`;
        // the app's configuration (`vars.required("X")`, `vars.number("X", ...)`, ...).
        for marker in ["var(\"", "var_os(\"", "env = \"", "_ENV: &str = \""] {
            names_after(&text, marker, &mut read);
        }
        for (at, _) in text.match_indices("vars.") {
            if let Some(open) = text[at..].find("(\"").filter(|o| *o < 20) {
                names_after(&text[at + open..], "(\"", &mut read);
            }
        }
    }
    // The app's own reads, asked of the app itself (they all pass through its lookup).
    for function in ["api", "worker"] {
        read.extend(common::read_by_app(function, &[]).0);
    }
    for known in [
        "AWS_ENDPOINT_URL_LAMBDA",
        "GIT_COMMIT",
        "SMOKE_BASE_URL",
        "PORT",
        "QUEUE_URL",
    ] {
        assert!(read.contains(known), "the scan misses {known}: {read:?}");
    }
    let docs = all_docs();
    let undocumented: Vec<&String> = read
        .iter()
        .filter(|name| name.as_str() != "PATH")
        .filter(|name| !docs.contains(&format!("`{name}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "read by the code but in no doc (README.md, docs/*.md): {undocumented:?}"
    );
}

/// The arguments of a `deployer` command on a shell line, placeholders filled in; none
/// when the line runs no deployer.
fn deployer_args(line: &str) -> Option<Vec<String>> {
    let mut words = shell_words(line);
    while words
        .first()
        .is_some_and(|w| w.contains('=') && !w.starts_with('-'))
    {
        words.remove(0); // VAR=value before the command
    }
    let start = if words
        .first()
        .is_some_and(|w| w == "deployer" || w.ends_with("/deployer"))
    {
        1
    } else if words.starts_with(&["cargo".into(), "run".into()])
        && words.iter().any(|w| w == "deployer")
    {
        words.iter().position(|w| w == "--")? + 1
    } else {
        return None;
    };
    let fill = |w: &str| {
        w.replace("<stage>", "dev")
            .replace("<from>", "dev")
            .replace("<to>", "staging")
            .replace("<sha256>", &"0".repeat(64))
            .replace("<package>", "package")
    };
    Some(words[start..].iter().map(|w| fill(w)).collect())
}

/// Shell words up to the first comment, pipe, redirection or `&&`; quotes removed.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, '#' | '|' | '>' | '&' | ';') if word.is_empty() => break,
            (None, c) if c.is_whitespace() => {
                if any || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                any = false;
            }
            (None, c) => word.push(c),
        }
    }
    if any || !word.is_empty() {
        words.push(word);
    }
    words
}

#[test]
fn every_deployer_command_in_the_docs_and_the_help_parses() {
    use clap::{CommandFactory, Parser};
    let root = common::repo_root();
    let mut docs = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        docs.push(entry.expect("entry").path());
    }
    let mut commands: Vec<(String, Vec<String>)> = Vec::new();
    for doc in &docs {
        let text = std::fs::read_to_string(doc).expect("doc");
        let mut in_block = false;
        let mut pending = String::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_block = !in_block;
                continue;
            }
            if !in_block {
                continue;
            }
            pending.push_str(line.trim().trim_start_matches("$ "));
            if pending.ends_with('\\') {
                pending.pop();
                pending.push(' ');
                continue;
            }
            if let Some(args) = deployer_args(&pending) {
                commands.push((format!("{}:{}", doc.display(), n + 1), args));
            }
            pending.clear();
        }
    }
    // The examples each subcommand's --help ends with.
    for sub in deployer::cli::Cli::command().get_subcommands() {
        for line in sub
            .get_after_help()
            .map(|h| h.to_string())
            .unwrap_or_default()
            .lines()
        {
            if let Some(args) = deployer_args(line.trim()) {
                commands.push((format!("`deployer {} --help`", sub.get_name()), args));
            }
        }
    }
    assert!(
        commands.len() > 40,
        "found only {} deployer commands",
        commands.len()
    );
    let failures: Vec<String> = commands
        .iter()
        .filter_map(|(at, args)| {
            let argv = std::iter::once("deployer".to_string()).chain(args.iter().cloned());
            deployer::cli::Cli::try_parse_from(argv)
                .err()
                .map(|e| format!("{at}: deployer {}: {}", args.join(" "), e.kind()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "commands that do not parse:\n{}",
        failures.join("\n")
    );
}
