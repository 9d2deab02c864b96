//! Fuzzes field interpretation: hex decoding, sockaddr, file modes, exit values, arch,
//! EXECVE argument reassembly (including the split `aN_len`/`aN[i]` form) and the
//! per-field interpretation of whatever record the line parser accepts.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sshtrail_audit::interpret::{
    decode_hex, execve_args, exit_text, field_text, file_mode, interpret_field, keys,
    proctitle_args, sockaddr, Arch, NoNames,
};
use sshtrail_audit::parse::parse_line;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    // The raw decoders on the whole input.
    let _ = decode_hex(&text);
    let _ = sockaddr(&text).to_string();
    let _ = file_mode(&text).map(|m| m.describe());
    let _ = exit_text(&text);
    let _ = Arch::from_field(&text).map(|a| a.label());

    // The input as the bodies of the records of one event: each line becomes an EXECVE
    // record (so argument reassembly sees arbitrary keys and pieces), and also a record
    // of the type the line names, if it parses, for the per-field interpretation.
    let mut execve = Vec::new();
    for line in text.lines().take(64) {
        let as_execve = format!("type=EXECVE msg=audit(1.0:1): {line}");
        if let Ok(record) = parse_line(as_execve.as_bytes()) {
            execve.push(record);
        }
        for candidate in [
            format!("type=SYSCALL msg=audit(1.0:1): arch=c000003e {line}"),
            line.to_string(),
        ] {
            if let Ok(record) = parse_line(candidate.as_bytes()) {
                for field in record.fields() {
                    let _ = interpret_field(&record, &field, None, &NoNames);
                    let _ = field_text(&field);
                    let _ = keys(&field);
                    let _ = proctitle_args(&field);
                }
            }
        }
    }
    let _ = execve_args(&execve);
});
