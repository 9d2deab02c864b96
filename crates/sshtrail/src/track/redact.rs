//! Masking secrets that people type on command lines, before they reach the trail.
//!
//! An audit trail that stores `mysql --password=hunter2` hands the password to everyone
//! who can read the trail. Arguments are masked when they name a secret:
//!
//! * `NAME=VALUE`, `--NAME=VALUE` (also environment assignments such as
//!   `AWS_SECRET_ACCESS_KEY=…`) where NAME contains a keyword: VALUE becomes `***`;
//! * `--NAME VALUE` / `-NAME VALUE` where NAME contains a keyword: the next argument;
//! * credentials in URLs, `scheme://user:PASSWORD@host`: the password;
//! * `Bearer TOKEN` / `Basic TOKEN` (an `Authorization` header value): the token.
//!
//! Keywords are matched case-insensitively after dropping `-` and `_`: password, passwd,
//! passphrase, secret, token, apikey, accesskey, privatekey, credential, and any given in
//! the configuration. Nothing is masked when redaction is turned off.

/// What replaces a secret.
pub const MASK: &str = "***";

const DEFAULT_KEYWORDS: [&str; 9] = [
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "privatekey",
    "credential",
];

#[derive(Clone, Debug)]
pub struct Redactor {
    keywords: Vec<String>,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new(&[])
    }
}

impl Redactor {
    /// The default keywords plus `extra` ones.
    pub fn new(extra: &[String]) -> Redactor {
        let mut keywords: Vec<String> = DEFAULT_KEYWORDS.iter().map(|k| k.to_string()).collect();
        keywords.extend(extra.iter().map(|k| normalize(k)).filter(|k| !k.is_empty()));
        Redactor { keywords }
    }

    /// Masks secrets in place; returns whether anything was masked. An argument that is
    /// itself a command line (`sh -c '… --password=x …'`, which is how `ssh host 'cmd'`
    /// runs) is masked word by word too.
    pub fn redact(&self, args: &mut [String]) -> bool {
        let mut masked = self.redact_words(args);
        for arg in args.iter_mut() {
            if arg.contains(' ') {
                let mut words: Vec<String> = arg.split(' ').map(str::to_string).collect();
                if self.redact_words(&mut words) {
                    *arg = words.join(" ");
                    masked = true;
                }
            }
        }
        masked
    }

    fn redact_words(&self, args: &mut [String]) -> bool {
        let mut masked = false;
        let mut mask_next = false;
        for arg in args.iter_mut() {
            if mask_next {
                mask_next = false;
                if !arg.starts_with('-') {
                    *arg = MASK.to_string();
                    masked = true;
                    continue;
                }
            }
            if let Some((name, _)) = arg.split_once('=') {
                // A "name" with a space is a command line: its words are looked at one
                // by one instead.
                if !name.contains(' ') && self.names_secret(name) {
                    *arg = format!("{name}={MASK}");
                    masked = true;
                    continue;
                }
            } else if (arg.starts_with('-') && self.names_secret(arg))
                || arg == "Bearer"
                || arg == "Basic"
            {
                mask_next = true;
            }
            // Most arguments have neither a URL's `:` nor a header's space: two byte
            // scans spare them the substring searches.
            if arg.contains(':') {
                if let Some(without) = mask_url_password(arg) {
                    *arg = without;
                    masked = true;
                }
            }
            if arg.contains(' ') {
                if let Some(without) = mask_authorization(arg) {
                    *arg = without;
                    masked = true;
                }
            }
        }
        masked
    }

    fn names_secret(&self, name: &str) -> bool {
        let name = normalize(name);
        self.keywords.iter().any(|k| name.contains(k.as_str()))
    }
}

fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// `scheme://user:secret@host…` → `scheme://user:***@host…`.
fn mask_url_password(arg: &str) -> Option<String> {
    let scheme_end = arg.find("://")? + 3;
    let rest = &arg[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    let colon = rest[..at].find(':')?;
    if colon + 1 == at {
        return None;
    }
    Some(format!(
        "{}{}{MASK}{}",
        &arg[..scheme_end],
        &rest[..colon + 1],
        &rest[at..]
    ))
}

/// `Authorization: Bearer abc` in one argument → `Authorization: Bearer ***`.
fn mask_authorization(arg: &str) -> Option<String> {
    for scheme in ["Bearer ", "Basic "] {
        if let Some(at) = arg.find(scheme) {
            let token_start = at + scheme.len();
            if token_start < arg.len() && &arg[token_start..] != MASK {
                return Some(format!("{}{MASK}", &arg[..token_start]));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(args: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        Redactor::default().redact(&mut args);
        args
    }

    #[test]
    fn common_secret_forms_are_masked() {
        assert_eq!(
            redacted(&["mysql", "--password=hunter2", "-u", "root"]),
            ["mysql", "--password=***", "-u", "root"]
        );
        assert_eq!(
            redacted(&["vault", "login", "--token", "s.abc", "--method", "x"]),
            ["vault", "login", "--token", "***", "--method", "x"]
        );
        assert_eq!(
            redacted(&["env", "AWS_SECRET_ACCESS_KEY=abc/def", "aws", "s3", "ls"]),
            ["env", "AWS_SECRET_ACCESS_KEY=***", "aws", "s3", "ls"]
        );
        assert_eq!(
            redacted(&["git", "clone", "https://bob:pa55@example.com/r.git"]),
            ["git", "clone", "https://bob:***@example.com/r.git"]
        );
        assert_eq!(
            redacted(&["curl", "-H", "Authorization: Bearer eyJabc", "https://x"]),
            ["curl", "-H", "Authorization: Bearer ***", "https://x"]
        );
        assert_eq!(
            redacted(&["x", "--api-key", "k1"]),
            ["x", "--api-key", "***"]
        );
    }

    #[test]
    fn secrets_inside_a_shell_command_argument_are_masked() {
        assert_eq!(
            redacted(&[
                "bash",
                "-c",
                "cd /x; mysql --password=hunter2 db; psql --token t1"
            ]),
            [
                "bash",
                "-c",
                "cd /x; mysql --password=*** db; psql --token ***"
            ]
        );
    }

    #[test]
    fn ordinary_commands_are_left_alone() {
        let plain = [
            "ls",
            "-la",
            "/tmp",
            "--color=auto",
            "https://example.com/a@b",
            "a=b",
        ];
        assert_eq!(redacted(&plain), plain);
        // A flag naming a secret followed by another flag masks nothing.
        assert_eq!(
            redacted(&["tool", "--password", "--verbose"]),
            ["tool", "--password", "--verbose"]
        );
    }

    #[test]
    fn extra_keywords_come_from_configuration() {
        let mut args = vec!["deploy".to_string(), "--pin=1234".to_string()];
        assert!(Redactor::new(&["PIN".to_string()]).redact(&mut args));
        assert_eq!(args, ["deploy", "--pin=***"]);
    }
}
