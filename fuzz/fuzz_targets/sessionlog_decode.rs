//! Any bytes as a session log: reader, verify, recover-style state, and all three exports.
//! The same bytes are also cut into payloads and framed with correct CRCs and chain links,
//! so that the fuzzer reaches the record decoders and the LZ4 decoder behind the checksums.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sshtrail_sessionlog::codec::{log_from_payloads, FLAG_LZ4};
use sshtrail_sessionlog::{export, verify, Reader};

fn exercise(log: &[u8]) {
    let v = verify(log);
    if let Ok(reader) = Reader::new(log) {
        let mut ok = 0u64;
        let mut errors = 0;
        let mut reader = reader;
        for entry in reader.by_ref() {
            match entry {
                Ok(e) => {
                    ok += 1;
                    let _ = e.message.kind_name();
                }
                Err(e) => {
                    errors += 1;
                    let _ = (e.to_string(), e.offset(), e.record_index());
                }
            }
        }
        assert!(errors <= 1, "the reader stops after its first error");
        assert!(ok <= v.records, "verify counts every whole record");
        let _ = reader.state();
        let _ = export::json_lines(Reader::new(log).unwrap(), &mut std::io::sink());
        let _ = export::text(Reader::new(log).unwrap(), &mut std::io::sink());
        let _ = export::asciinema(Reader::new(log).unwrap(), &mut std::io::sink());
    } else {
        assert!(!v.ok());
    }
}

fuzz_target!(|data: &[u8]| {
    exercise(data);
    // Payloads: a length byte (high bit = store as LZ4) followed by that many bytes.
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let n = usize::from(len & 0x7f).min(tail.len());
        let flags = if len & 0x80 != 0 { FLAG_LZ4 } else { 0 };
        parts.push((flags, &tail[..n]));
        rest = &tail[n..];
    }
    exercise(&log_from_payloads(parts));
});
