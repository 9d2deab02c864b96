//! The octal `mode=` of PATH (and IPC) records: file type and permission bits.

use std::fmt;

/// A decoded `mode=` value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FileMode {
    /// `file`, `directory`, `symlink`, `character-device`, `block-device`, `fifo`,
    /// `socket`; empty when the mode carries no type bits (IPC objects, `mq_open`).
    pub file_type: &'static str,
    /// Permission bits including setuid, setgid and sticky (`mode & 0o7777`).
    pub perm: u32,
    /// The whole mode.
    pub raw: u32,
}

const S_IFMT: u32 = 0o170_000;

impl FileMode {
    pub fn from_raw(raw: u32) -> FileMode {
        let file_type = match raw & S_IFMT {
            0o140_000 => "socket",
            0o120_000 => "symlink",
            0o100_000 => "file",
            0o060_000 => "block-device",
            0o040_000 => "directory",
            0o020_000 => "character-device",
            0o010_000 => "fifo",
            0 => "",
            _ => "unknown",
        };
        FileMode {
            file_type,
            perm: raw & 0o7777,
            raw,
        }
    }

    pub fn is_setuid(&self) -> bool {
        self.perm & 0o4000 != 0
    }

    pub fn is_setgid(&self) -> bool {
        self.perm & 0o2000 != 0
    }

    pub fn is_sticky(&self) -> bool {
        self.perm & 0o1000 != 0
    }

    /// `file,0644`, `directory,1777`, or only the permissions when there is no type.
    pub fn describe(&self) -> String {
        if self.file_type.is_empty() {
            self.to_string()
        } else {
            format!("{},{self}", self.file_type)
        }
    }
}

/// The permission bits as four octal digits: `0755`, `4755` (setuid).
impl fmt::Display for FileMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04o}", self.perm)
    }
}

/// Decodes an octal `mode=` value (`0100644`). `None` if it is not octal or too large
/// for a mode.
pub fn file_mode(octal: &str) -> Option<FileMode> {
    if octal.is_empty() || octal.len() > 11 || !octal.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    u32::from_str_radix(octal, 8).ok().map(FileMode::from_raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_from_real_path_records() {
        let m = file_mode("0100644").unwrap();
        assert_eq!(m.file_type, "file");
        assert_eq!(m.perm, 0o644);
        assert_eq!(m.to_string(), "0644");
        assert_eq!(m.describe(), "file,0644");
        let dir = file_mode("040755").unwrap();
        assert_eq!(dir.describe(), "directory,0755");
        let suid = file_mode("0104755").unwrap();
        assert!(suid.is_setuid());
        assert_eq!(suid.to_string(), "4755");
        assert_eq!(file_mode("0120777").unwrap().file_type, "symlink");
        assert_eq!(file_mode("020666").unwrap().file_type, "character-device");
        assert_eq!(file_mode("060660").unwrap().file_type, "block-device");
        assert_eq!(file_mode("010600").unwrap().file_type, "fifo");
        assert_eq!(file_mode("0140777").unwrap().file_type, "socket");
        assert!(file_mode("041777").unwrap().is_sticky());
        assert!(file_mode("02755").unwrap().is_setgid());
    }

    #[test]
    fn modes_without_type_and_garbage() {
        let ipc = file_mode("0600").unwrap();
        assert_eq!(ipc.file_type, "");
        assert_eq!(ipc.describe(), "0600");
        assert_eq!(file_mode("0170000").unwrap().file_type, "unknown");
        for bad in ["", "0x1ff", "0800", "-1", "77777777777777"] {
            assert_eq!(file_mode(bad), None, "{bad:?}");
        }
    }
}
