//! auditctl's command-line syntax → rule commands.
//!
//! The same syntax appears as `auditctl` arguments and as lines of a rules file
//! (`/etc/audit/rules.d/*.rules`). One line is one command: add or delete a rule, delete
//! all rules, or set a kernel parameter (`-b`, `-f`, `-e`, `-r`, `--backlog_wait_time`,
//! `--loginuid-immutable`). As auditctl does, keys (`-k`, `-F key=`) and the watch
//! permissions (`-p`) go after the other conditions, and an `exit` rule without `-S`
//! applies to every syscall.

use super::consts::*;
use super::wire::{FieldEntry, RuleData};
use super::{names, RuleError};
use crate::interpret::{syscall_number, Arch};
use crate::RecordType;

/// What one line of auditctl arguments asks for.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Command {
    /// `-a`/`-A`/`-w`: add a rule (`-A` sets `FILTER_PREPEND` in its flags).
    Add(RuleData),
    /// `-d`/`-W`: delete the rule equal to this one.
    Delete(RuleData),
    /// `-D` (optionally `-D -k key`: only rules with that key).
    DeleteAll { key: Option<String> },
    /// `-b N`: backlog limit.
    BacklogLimit(u32),
    /// `-f N`: failure mode (0 silent, 1 printk, 2 panic).
    Failure(u32),
    /// `-e N`: 0 disabled, 1 enabled, 2 enabled and locked until reboot.
    Enabled(u32),
    /// `-r N`: messages per second.
    RateLimit(u32),
    /// `--backlog_wait_time N`.
    BacklogWaitTime(u32),
    /// `--reset-lost`.
    ResetLost,
    /// `--reset_backlog_wait_time_actual`.
    ResetBacklogWaitTimeActual,
    /// `--loginuid-immutable`: lasts until reboot.
    LoginuidImmutable,
    /// `-c` / `-i`: continue past errors while loading a file.
    ContinueOnError,
    /// A blank line or a comment.
    Nothing,
}

/// Splits a line as auditctl's file reader and a shell would: whitespace separates
/// words, single or double quotes keep spaces inside one word.
pub fn split_words(line: &str) -> Result<Vec<String>, RuleError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            None => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(RuleError::Syntax("unterminated quote".into()));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Reads rule lines with knowledge of the machine: which architecture `b64`/`b32` and a
/// rule without `-F arch` mean.
#[derive(Clone, Copy, Debug)]
pub struct RuleParser {
    native: Arch,
    is_dir: fn(&str) -> bool,
}

/// Whether `path` is a directory on this machine.
fn is_dir_here(path: &str) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_dir())
}

impl Default for RuleParser {
    fn default() -> Self {
        RuleParser::new(native_arch())
    }
}

/// The architecture this program runs on.
pub fn native_arch() -> Arch {
    match std::env::consts::ARCH {
        "aarch64" => Arch::Aarch64,
        "x86" => Arch::I386,
        "arm" => Arch::Arm,
        "powerpc64" if cfg!(target_endian = "little") => Arch::Ppc64le,
        "powerpc64" => Arch::Ppc64,
        "s390x" => Arch::S390x,
        _ => Arch::X86_64,
    }
}

/// The 32-bit architecture a 64-bit one runs compat tasks in (`b32`).
pub fn compat_arch(native: Arch) -> Arch {
    match native {
        Arch::X86_64 => Arch::I386,
        Arch::Aarch64 => Arch::Arm,
        Arch::Ppc64 | Arch::Ppc64le => Arch::Ppc,
        Arch::S390x => Arch::S390,
        other => other,
    }
}

/// What kind of rule is being built.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    Add,
    Prepend,
    Delete,
    Watch,
    Unwatch,
}

struct Builder {
    verb: Option<Verb>,
    rule: RuleData,
    arch: Option<Arch>,
    syscalls: bool,
    keys: Vec<String>,
    perm: Option<u32>,
}

impl RuleParser {
    pub fn new(native: Arch) -> RuleParser {
        RuleParser {
            native,
            is_dir: is_dir_here,
        }
    }

    /// The same parser deciding `-w` watches with `is_dir` instead of this machine's
    /// file system (to read rules written for another machine).
    pub fn with_dir_probe(self, is_dir: fn(&str) -> bool) -> RuleParser {
        RuleParser { is_dir, ..self }
    }

    /// The architecture `b64` means here.
    pub fn native(&self) -> Arch {
        self.native
    }

    /// Parses one line of a rules file.
    pub fn parse_line(&self, line: &str) -> Result<Command, RuleError> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(Command::Nothing);
        }
        self.parse_args(&split_words(line)?)
    }

    /// Parses auditctl's arguments for one command.
    pub fn parse_args<S: AsRef<str>>(&self, args: &[S]) -> Result<Command, RuleError> {
        let mut b = Builder {
            verb: None,
            rule: RuleData::new(FILTER_EXIT, ACTION_ALWAYS),
            arch: None,
            syscalls: false,
            keys: Vec::new(),
            perm: None,
        };
        let mut control: Option<Command> = None;
        let mut delete_all = false;
        let mut i = 0;
        while i < args.len() {
            let arg = args[i].as_ref();
            i += 1;
            // Long options and options without a value.
            match arg {
                "-D" => {
                    delete_all = true;
                    continue;
                }
                "-c" | "-i" => {
                    control = Some(Command::ContinueOnError);
                    continue;
                }
                "--loginuid-immutable" => {
                    control = Some(Command::LoginuidImmutable);
                    continue;
                }
                "--reset_backlog_wait_time_actual" => {
                    control = Some(Command::ResetBacklogWaitTimeActual);
                    continue;
                }
                "--reset-lost" => {
                    control = Some(Command::ResetLost);
                    continue;
                }
                "--backlog_wait_time" => {
                    let v = take(args, &mut i, arg)?;
                    control = Some(Command::BacklogWaitTime(number(arg, v)?));
                    continue;
                }
                _ => {}
            }
            // Short options with a value, glued (`-kfoo`) or separate (`-k foo`).
            let (opt, glued) = match arg.strip_prefix('-') {
                Some(rest) if !rest.is_empty() && !rest.starts_with('-') => {
                    let split = rest.char_indices().nth(1).map_or(rest.len(), |(n, _)| n);
                    (&rest[..split], &rest[split..])
                }
                _ => return Err(RuleError::Syntax(format!("unexpected argument {arg:?}"))),
            };
            let value = if glued.is_empty() {
                take(args, &mut i, arg)?
            } else {
                glued
            };
            match opt {
                "a" => self.list_action(&mut b, Verb::Add, value)?,
                "A" => self.list_action(&mut b, Verb::Prepend, value)?,
                "d" => self.list_action(&mut b, Verb::Delete, value)?,
                "w" => self.watch(&mut b, Verb::Watch, value)?,
                "W" => self.watch(&mut b, Verb::Unwatch, value)?,
                "S" => self.syscalls(&mut b, value)?,
                "F" => self.field(&mut b, value)?,
                "C" => compare(&mut b, value)?,
                "k" if delete_all && b.verb.is_none() => b.keys.push(value.to_string()),
                "k" => key(&mut b, value)?,
                "p" => b.perm = Some(perm_bits(value)?),
                "b" => control = Some(Command::BacklogLimit(number("-b", value)?)),
                "f" => {
                    let v = number("-f", value)?;
                    if v > 2 {
                        return Err(RuleError::Syntax(format!(
                            "-f {v}: failure mode is 0, 1 or 2"
                        )));
                    }
                    control = Some(Command::Failure(v));
                }
                "e" => {
                    let v = number("-e", value)?;
                    if v > 2 {
                        return Err(RuleError::Syntax(format!("-e {v}: enabled is 0, 1 or 2")));
                    }
                    control = Some(Command::Enabled(v));
                }
                "r" => control = Some(Command::RateLimit(number("-r", value)?)),
                other => return Err(RuleError::Syntax(format!("unknown option -{other}"))),
            }
        }
        if delete_all {
            if b.verb.is_some() {
                return Err(RuleError::Syntax(
                    "-D cannot be combined with a rule".into(),
                ));
            }
            return Ok(Command::DeleteAll {
                key: (!b.keys.is_empty()).then(|| b.keys.join("\u{1}")),
            });
        }
        match (b.verb, control) {
            (None, Some(c)) => Ok(c),
            (None, None) => Err(RuleError::Syntax(
                "no rule: expected -a, -A, -d, -w, -W, -D or a setting".into(),
            )),
            (Some(_), Some(_)) => Err(RuleError::Syntax("a rule and a setting on one line".into())),
            (Some(verb), None) => self.finish(b, verb),
        }
    }

    fn list_action(&self, b: &mut Builder, verb: Verb, value: &str) -> Result<(), RuleError> {
        if b.verb.is_some() {
            return Err(RuleError::Syntax("more than one rule on one line".into()));
        }
        let (first, second) = value
            .split_once(',')
            .ok_or_else(|| RuleError::Syntax(format!("{value:?}: expected list,action")))?;
        let lookup = |n: &str| {
            (
                LIST_NAMES.iter().find(|(l, _)| *l == n).map(|(_, v)| *v),
                ACTION_NAMES.iter().find(|(a, _)| *a == n).map(|(_, v)| *v),
            )
        };
        let (list, action) = match (lookup(first), lookup(second)) {
            ((Some(l), _), (_, Some(a))) | ((_, Some(a)), (Some(l), _)) => (l, a),
            _ => {
                return Err(RuleError::Syntax(format!(
                    "{value:?}: expected a list (task, exit, user, exclude, filesystem) and an action (never, always)"
                )))
            }
        };
        if list == FILTER_ENTRY {
            return Err(RuleError::Syntax(
                "the entry list is deprecated; use exit".into(),
            ));
        }
        if action == ACTION_POSSIBLE {
            return Err(RuleError::Syntax(
                "the possible action is deprecated; use always".into(),
            ));
        }
        b.verb = Some(verb);
        b.rule.flags = list
            | if verb == Verb::Prepend {
                FILTER_PREPEND
            } else {
                0
            };
        b.rule.action = action;
        Ok(())
    }

    fn watch(&self, b: &mut Builder, verb: Verb, path: &str) -> Result<(), RuleError> {
        if b.verb.is_some() {
            return Err(RuleError::Syntax("more than one rule on one line".into()));
        }
        if !path.starts_with('/') {
            return Err(RuleError::Syntax(format!(
                "watch {path:?} is not an absolute path"
            )));
        }
        b.verb = Some(verb);
        b.rule.flags = FILTER_EXIT;
        b.rule.action = ACTION_ALWAYS;
        // auditctl 3.0 drops a trailing slash and looks at the file system: a directory
        // gets a dir watch (its whole subtree), anything else (including a path that
        // does not exist yet) a path watch.
        let path = match path.strip_suffix('/') {
            Some(p) if !p.is_empty() => p,
            _ => path,
        };
        let field = if (self.is_dir)(path) { F_DIR } else { F_WATCH };
        push_string(&mut b.rule, field, OP_EQ, path.as_bytes())
    }

    fn syscalls(&self, b: &mut Builder, value: &str) -> Result<(), RuleError> {
        if !matches!(b.verb, Some(Verb::Add | Verb::Prepend | Verb::Delete)) {
            return Err(RuleError::Syntax("-S needs -a, -A or -d before it".into()));
        }
        if b.rule.flags & FILTER_MASK != FILTER_EXIT
            && b.rule.flags & FILTER_MASK != FILTER_URING_EXIT
        {
            return Err(RuleError::Syntax("-S is only for the exit list".into()));
        }
        let arch = b.arch.unwrap_or(self.native);
        for name in value.split(',') {
            if name == "all" {
                b.rule.mask = [u32::MAX; BITMASK_WORDS];
            } else {
                let nr = match name.parse::<u64>() {
                    Ok(n) => n,
                    Err(_) => syscall_number(arch, name).ok_or_else(|| {
                        RuleError::Syntax(format!("syscall {name:?} is unknown on {}", arch.name()))
                    })?,
                };
                if !b.rule.set_syscall(nr) {
                    return Err(RuleError::Syntax(format!(
                        "syscall number {nr} is too large"
                    )));
                }
            }
        }
        b.syscalls = true;
        Ok(())
    }

    fn field(&self, b: &mut Builder, pair: &str) -> Result<(), RuleError> {
        let (name, op, value) = split_pair(pair)?;
        let field = field_number(name)
            .ok_or_else(|| RuleError::Syntax(format!("-F unknown field {name:?}")))?;
        if b.verb.is_none() {
            return Err(RuleError::Syntax(format!(
                "-F {pair}: needs -a, -A or -d before it"
            )));
        }
        if field == F_FILTERKEY {
            if op != OP_EQ {
                return Err(RuleError::Syntax("-F key takes only =".into()));
            }
            return key(b, value);
        }
        if field == F_FIELD_COMPARE {
            return Err(RuleError::Syntax("use -C for field comparisons".into()));
        }
        let list = b.rule.flags & FILTER_MASK;
        let bad = |why: &str| Err(RuleError::Syntax(format!("-F {pair}: {why}")));
        // The kernel's exclude list only sees the record type and the task's identity.
        let exclude_ok = matches!(
            field,
            F_MSGTYPE | F_PID | F_UID..=F_LOGINUID | F_SUBJ_USER..=F_SUBJ_CLR | F_EXE
        );
        if list == FILTER_EXCLUDE && !exclude_ok {
            return bad("only msgtype, *uid, *gid, pid, subj* and exe work on the exclude list");
        }
        if is_string_field(field) {
            if op != OP_EQ && op != OP_NE {
                return bad("only = and != compare strings");
            }
            if matches!(field, F_WATCH | F_DIR) && list != FILTER_EXIT {
                return bad("path and dir are only for the exit list");
            }
            return push_string(&mut b.rule, field, op, value.as_bytes());
        }
        let v: u32 = match field {
            _ if is_uid_field(field) => id_value(value, names::uid)?,
            _ if is_gid_field(field) => id_value(value, names::gid)?,
            F_ARCH => {
                if op != OP_EQ && op != OP_NE {
                    return bad("arch takes only = and !=");
                }
                if b.syscalls {
                    return bad("arch must come before -S");
                }
                let arch = self.arch_value(value)?;
                b.arch = Some(arch);
                arch.value()
            }
            F_EXIT => {
                if list != FILTER_EXIT {
                    return bad("exit is only for the exit list");
                }
                exit_value(value)?
            }
            F_MSGTYPE => {
                if list != FILTER_EXCLUDE && list != FILTER_USER {
                    return bad("msgtype is only for the exclude and user lists");
                }
                match RecordType::from_name(value) {
                    Some(t) => u32::from(t.0),
                    None => number(name, value)?,
                }
            }
            F_PERM => {
                if op != OP_EQ {
                    return bad("perm takes only =");
                }
                perm_bits(value)?
            }
            F_FILETYPE => match FILE_TYPES.iter().find(|(n, _)| *n == value) {
                Some((_, t)) => *t,
                None => number(name, value)?,
            },
            F_FSTYPE => match FS_TYPES.iter().find(|(n, _)| *n == value) {
                Some((_, t)) => *t,
                None => number(name, value)?,
            },
            F_ARG0..=F_ARG3 => c_number(value)
                .ok_or_else(|| RuleError::Syntax(format!("-F {pair}: not a number")))?,
            _ => signed_number(name, value)?,
        };
        push(
            &mut b.rule,
            FieldEntry {
                field,
                op,
                value: v,
            },
        )
    }

    /// `b64`, `b32`, an architecture name, or a number.
    fn arch_value(&self, value: &str) -> Result<Arch, RuleError> {
        let arch = match value {
            "b64" => self.native,
            "b32" => compat_arch(self.native),
            "i486" | "i586" | "i686" => Arch::I386,
            name => match Arch::from_name(name) {
                Some(a) => a,
                None => Arch::from_value(
                    c_number(name)
                        .ok_or_else(|| RuleError::Syntax(format!("arch {name:?} is unknown")))?,
                ),
            },
        };
        Ok(arch)
    }

    fn finish(&self, mut b: Builder, verb: Verb) -> Result<Command, RuleError> {
        let list = b.rule.flags & FILTER_MASK;
        if matches!(verb, Verb::Watch | Verb::Unwatch) {
            // A watch is an exit rule on every syscall with a permission mask.
            b.rule.mask = [u32::MAX; BITMASK_WORDS];
            let perm = b
                .perm
                .unwrap_or(PERM_READ | PERM_WRITE | PERM_EXEC | PERM_ATTR);
            push(
                &mut b.rule,
                FieldEntry {
                    field: F_PERM,
                    op: OP_EQ,
                    value: perm,
                },
            )?;
        } else {
            if b.perm.is_some() {
                return Err(RuleError::Syntax("-p is only for -w watches".into()));
            }
            // Without -S a rule applies to every syscall; auditctl sets the full mask on
            // every list (the kernel ignores it outside exit).
            if !b.syscalls {
                b.rule.mask = [u32::MAX; BITMASK_WORDS];
            }
            if list == FILTER_EXCLUDE && !b.keys.is_empty() {
                return Err(RuleError::Syntax("the exclude list takes no key".into()));
            }
        }
        if !b.keys.is_empty() {
            let joined = b.keys.join("\u{1}");
            if joined.len() > MAX_KEY_LEN {
                return Err(RuleError::Syntax(format!(
                    "keys longer than {MAX_KEY_LEN} bytes"
                )));
            }
            push_string(&mut b.rule, F_FILTERKEY, OP_EQ, joined.as_bytes())?;
        }
        Ok(match verb {
            Verb::Delete | Verb::Unwatch => Command::Delete(b.rule),
            _ => Command::Add(b.rule),
        })
    }
}

fn take<'a, S: AsRef<str>>(args: &'a [S], i: &mut usize, opt: &str) -> Result<&'a str, RuleError> {
    let v = args
        .get(*i)
        .ok_or_else(|| RuleError::Syntax(format!("{opt} needs a value")))?;
    *i += 1;
    Ok(v.as_ref())
}

fn push(rule: &mut RuleData, entry: FieldEntry) -> Result<(), RuleError> {
    if rule.fields.len() >= MAX_FIELDS {
        return Err(RuleError::Syntax(format!("more than {MAX_FIELDS} fields")));
    }
    rule.fields.push(entry);
    Ok(())
}

fn push_string(rule: &mut RuleData, field: u32, op: u32, s: &[u8]) -> Result<(), RuleError> {
    if s.is_empty() {
        return Err(RuleError::Syntax("empty string value".into()));
    }
    push(
        rule,
        FieldEntry {
            field,
            op,
            value: s.len() as u32,
        },
    )?;
    rule.buf.extend_from_slice(s);
    Ok(())
}

fn key(b: &mut Builder, value: &str) -> Result<(), RuleError> {
    if b.verb.is_none() {
        return Err(RuleError::Syntax(
            "-k needs a rule or watch before it".into(),
        ));
    }
    if value.is_empty() || value.as_bytes().contains(&KEY_SEPARATOR) {
        return Err(RuleError::Syntax(format!("bad key {value:?}")));
    }
    b.keys.push(value.to_string());
    Ok(())
}

fn compare(b: &mut Builder, expr: &str) -> Result<(), RuleError> {
    if b.verb.is_none() {
        return Err(RuleError::Syntax("-C needs a rule before it".into()));
    }
    let (left, op, right) = split_pair(expr)?;
    if op != OP_EQ && op != OP_NE {
        return Err(RuleError::Syntax(format!(
            "-C {expr}: only = and != compare fields"
        )));
    }
    let (l, r) = (canon(left), canon(right));
    let which = COMPARISONS
        .iter()
        .find(|(a, c, _)| (*a == l && *c == r) || (*a == r && *c == l))
        .map(|(_, _, n)| *n)
        .ok_or_else(|| RuleError::Syntax(format!("-C {expr}: these fields cannot be compared")))?;
    push(
        &mut b.rule,
        FieldEntry {
            field: F_FIELD_COMPARE,
            op,
            value: which,
        },
    )
}

/// `name op value` with the operators auditctl knows.
fn split_pair(pair: &str) -> Result<(&str, u32, &str), RuleError> {
    let at = pair
        .find(['=', '!', '<', '>', '&'])
        .ok_or_else(|| RuleError::Syntax(format!("{pair:?}: no operator")))?;
    let rest = &pair[at..];
    let (sym, op) = OPERATOR_SYMBOLS
        .iter()
        .find(|(s, _)| rest.starts_with(s))
        .ok_or_else(|| RuleError::Syntax(format!("{pair:?}: bad operator")))?;
    let (name, value) = (&pair[..at], &rest[sym.len()..]);
    if name.is_empty() || value.is_empty() {
        return Err(RuleError::Syntax(format!(
            "{pair:?}: expected field{sym}value"
        )));
    }
    Ok((name, *op, value))
}

/// `r`, `w`, `x`, `a` in any order.
fn perm_bits(value: &str) -> Result<u32, RuleError> {
    let mut bits = 0;
    for c in value.chars() {
        bits |= match c {
            'r' => PERM_READ,
            'w' => PERM_WRITE,
            'x' => PERM_EXEC,
            'a' => PERM_ATTR,
            _ => {
                return Err(RuleError::Syntax(format!(
                    "permission {value:?}: only r, w, x, a"
                )))
            }
        };
    }
    if bits == 0 {
        return Err(RuleError::Syntax("empty permission".into()));
    }
    Ok(bits)
}

fn number(what: &str, value: &str) -> Result<u32, RuleError> {
    value
        .parse()
        .map_err(|_| RuleError::Syntax(format!("{what} {value:?}: not a number")))
}

/// A decimal number that may be negative, stored as its 32-bit pattern (`-1` is unset).
fn signed_number(what: &str, value: &str) -> Result<u32, RuleError> {
    match value.parse::<i64>() {
        Ok(n) if (i64::from(i32::MIN)..=i64::from(u32::MAX)).contains(&n) => Ok(n as u32),
        _ => Err(RuleError::Syntax(format!(
            "{what} {value:?}: not a 32-bit number"
        ))),
    }
}

/// A number as C's strtol with base 0 reads it: `0x` hex, leading `0` octal, else
/// decimal, optionally negative.
fn c_number(value: &str) -> Option<u32> {
    let (neg, digits) = match value.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, value),
    };
    let n = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse::<u64>().ok()?
    };
    if neg {
        (n <= 1 << 31).then(|| (n as u32).wrapping_neg())
    } else {
        u32::try_from(n).ok()
    }
}

/// A user or group id: a number, `unset` (-1), or a name from the system's database.
fn id_value(value: &str, lookup: fn(&str) -> Option<u32>) -> Result<u32, RuleError> {
    if value == "unset" {
        return Ok(u32::MAX);
    }
    if value.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        return signed_number("id", value);
    }
    lookup(value).ok_or_else(|| RuleError::Syntax(format!("unknown user or group {value:?}")))
}

/// `-F exit=`: a number or an errno name, `-EPERM` for the negative return.
fn exit_value(value: &str) -> Result<u32, RuleError> {
    if let Ok(n) = value.parse::<i64>() {
        return signed_number("exit", &n.to_string());
    }
    let (neg, name) = match value.strip_prefix('-') {
        Some(n) => (true, n),
        None => (false, value),
    };
    let n = names::errno_number(name)
        .ok_or_else(|| RuleError::Syntax(format!("exit {value:?}: unknown errno name")))?;
    Ok(if neg { n.wrapping_neg() } else { n })
}

fn canon(name: &str) -> &str {
    if name == "loginuid" {
        "auid"
    } else {
        name
    }
}
