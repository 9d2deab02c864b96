//! One module per subcommand.

pub mod audit;
pub mod coalesced;
pub mod docs;
pub mod kernel;
pub mod replay;
pub mod run;
pub mod sessions;
pub mod sshd;

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::PathBuf;

/// Opens each named input in turn (`-` or no names at all means stdin).
pub fn open_inputs(paths: &[PathBuf]) -> anyhow::Result<Vec<(String, Box<dyn BufRead>)>> {
    if paths.is_empty() {
        return Ok(vec![(
            "-".to_string(),
            Box::new(BufReader::new(io::stdin())),
        )]);
    }
    let mut inputs: Vec<(String, Box<dyn BufRead>)> = Vec::new();
    for path in paths {
        let name = path.display().to_string();
        if name == "-" {
            inputs.push((name, Box::new(BufReader::new(io::stdin()))));
        } else {
            let file = File::open(path).map_err(|e| anyhow::anyhow!("cannot open {name}: {e}"))?;
            inputs.push((name, Box::new(BufReader::with_capacity(1 << 16, file))));
        }
    }
    Ok(inputs)
}

/// `sshtrail record`: becomes the setgid recorder (exec), which does the work with a group
/// this binary does not have.
pub fn record(args: &[String]) -> anyhow::Result<std::process::ExitCode> {
    use std::os::unix::process::CommandExt;
    let beside = std::env::current_exe()
        .ok()
        .and_then(|me| me.parent().map(|d| d.join("sshtrail-record")));
    let installed = std::path::PathBuf::from("/usr/lib/sshtrail/sshtrail-record");
    let recorder = [Some(installed), beside]
        .into_iter()
        .flatten()
        .find(|p| p.exists())
        .ok_or_else(|| {
            anyhow::anyhow!("no sshtrail-record in /usr/lib/sshtrail or beside sshtrail")
        })?;
    let err = std::process::Command::new(&recorder).args(args).exec();
    Err(anyhow::anyhow!("{}: {err}", recorder.display()))
}
