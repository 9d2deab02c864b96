//! Any bytes on the recording socket: frames are read one after another until the first
//! error, never past the input, and every frame read encodes back to bytes that read as
//! the same frame.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sshtrail_record::protocol::Frame;

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    while let Ok(Some(frame)) = Frame::read_from(&mut input) {
        let bytes = frame.encode();
        let again = Frame::read_from(&mut &bytes[..]);
        assert!(matches!(again, Ok(Some(ref f)) if *f == frame), "{frame:?}");
    }
});
