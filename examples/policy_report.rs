//! The record of processing activities of a policy, for a compliance officer: a Markdown
//! report with a Mermaid data-flow diagram.
//!
//! `cargo run --example policy_report -- examples/policies/imanum.toml`

use std::process::ExitCode;

use amanat::Policy;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: policy_report <policy.toml>");
        return ExitCode::from(2);
    };
    match Policy::from_path(&path) {
        Ok(policy) => {
            // What strict loading would refuse (a registration "to be confirmed"): the
            // report is still made, and the warning goes where the editor's errors go.
            for warning in policy.warnings() {
                eprintln!("warning: {warning}");
            }
            print!("{}", policy.to_markdown());
            ExitCode::SUCCESS
        }
        Err(err) => {
            // Points at the file, line and column, for an editor to jump to.
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}
