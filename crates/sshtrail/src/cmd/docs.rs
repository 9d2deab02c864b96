//! `sshtrail man DIR` and `sshtrail completions SHELL`: the man pages and shell
//! completions the packages ship, written from the command line's own definition (so they
//! cannot drift from it). `scripts/package-deb` runs them. They are not subcommands of the
//! main command line (clap_complete would list even hidden ones): `main` hands the
//! arguments here first.

use clap::{Args, Parser};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

/// The packaging commands.
#[derive(Parser, Debug)]
#[command(name = "sshtrail")]
enum Packaging {
    /// Write the man pages into a directory.
    Man(ManArgs),
    /// Write a shell completion script to standard output.
    Completions(CompletionsArgs),
}

/// Runs `sshtrail man …` or `sshtrail completions …` for the command line `cli` makes;
/// `None` when the arguments are not one of them.
pub fn packaging(cli: impl Fn() -> clap::Command) -> Option<ExitCode> {
    packaging_from(std::env::args_os(), cli)
}

fn packaging_from(
    args: impl IntoIterator<Item = OsString>,
    cli: impl Fn() -> clap::Command,
) -> Option<ExitCode> {
    let args: Vec<OsString> = args.into_iter().collect();
    let first = args.get(1)?;
    if first != "man" && first != "completions" {
        return None;
    }
    let result = match Packaging::parse_from(args) {
        Packaging::Man(args) => man(cli(), args),
        Packaging::Completions(args) => completions(cli(), args),
    };
    Some(match result {
        Ok(code) => code,
        Err(err) => {
            let broken_pipe = err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return Some(ExitCode::SUCCESS);
            }
            eprintln!("sshtrail: {err:#}");
            ExitCode::from(1)
        }
    })
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Directory to write the pages into (created): `sshtrail.1` and one page per
    /// subcommand (`sshtrail-run.1`, `sshtrail-audit-parse.1`, …).
    dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for (to standard output).
    shell: clap_complete::Shell,
}

/// Writes a man page for `cli` and for each of its visible subcommands, at every depth.
pub fn man(cli: clap::Command, args: ManArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", args.dir.display()))?;
    clap_mangen::generate_to(cli, &args.dir)
        .map_err(|e| anyhow::anyhow!("writing man pages into {}: {e}", args.dir.display()))?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `cli`'s completion script for `args.shell` to standard output.
pub fn completions(mut cli: clap::Command, args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let name = cli.get_name().to_string();
    // Into memory first: clap_complete panics on a failed write.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cli, name, &mut script);
    std::io::Write::write_all(&mut std::io::stdout().lock(), &script)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli() -> clap::Command {
        clap::Command::new("demo")
            .version("1.0")
            .subcommand(
                clap::Command::new("run").arg(clap::Arg::new("output").long("output").help("x")),
            )
            .subcommand(clap::Command::new("secret").hide(true))
            .subcommand(clap::Command::new("audit").subcommand(clap::Command::new("parse")))
    }

    #[test]
    fn only_the_packaging_commands_are_taken() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(packaging_from(args(&["sshtrail", "run", "--output", "-"]), cli).is_none());
        assert!(packaging_from(args(&["sshtrail"]), cli).is_none());
        assert!(packaging_from(args(&["sshtrail", "completions", "bash"]), cli).is_some());
    }

    #[test]
    fn one_page_per_visible_command() {
        let dir = std::env::temp_dir().join(format!("sshtrail-man-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        man(cli(), ManArgs { dir: dir.clone() }).expect("pages");
        let mut pages: Vec<String> = std::fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        pages.sort();
        assert_eq!(
            pages,
            ["demo-audit-parse.1", "demo-audit.1", "demo-run.1", "demo.1"]
        );
        let run = std::fs::read_to_string(dir.join("demo-run.1")).expect("page");
        assert!(run.contains("output"), "{run}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
