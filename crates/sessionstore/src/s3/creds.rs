//! Where the S3 keys come from: explicit configuration, then the environment, then the AWS
//! shared-credentials file, the order AWS's own tools use, so that an operator's existing set-up
//! works unchanged.

use super::url::S3Config;
use crate::Error;
use std::path::PathBuf;

/// An access key pair (and session token for temporary credentials).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

// Secrets stay out of logs and panic messages.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Picks the credentials for a store.
pub fn resolve(cfg: &S3Config, explicit: Option<&Credentials>) -> Result<Credentials, Error> {
    if let Some(c) = explicit.or(cfg.url_credentials.as_ref()) {
        return Ok(c.clone());
    }
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(a), Some(s)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        return Ok(Credentials {
            access_key_id: a,
            secret_access_key: s,
            session_token: env("AWS_SESSION_TOKEN"),
        });
    }
    let profile = cfg
        .profile
        .clone()
        .or_else(|| env("AWS_PROFILE"))
        .unwrap_or_else(|| "default".to_owned());
    let file = cfg
        .credentials_file
        .clone()
        .map(PathBuf::from)
        .or_else(|| env("AWS_SHARED_CREDENTIALS_FILE").map(PathBuf::from))
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".aws/credentials")));
    let explicit_file = cfg.credentials_file.is_some();
    if let Some(path) = file {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                return from_ini(&text, &profile).ok_or_else(|| {
                    Error::Credentials(format!(
                        "profile [{profile}] in {} has no aws_access_key_id/aws_secret_access_key",
                        path.display()
                    ))
                })
            }
            Err(e) if explicit_file || e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io("read credentials file", path, e))
            }
            Err(_) => {}
        }
    }
    Err(Error::Credentials(
        "none found: give access_key_id/secret_access_key in the URL, set AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY, or provide a shared credentials file (credentials_file=, \
         AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials)"
            .into(),
    ))
}

/// Reads one profile of an AWS shared-credentials INI file.
pub fn from_ini(text: &str, profile: &str) -> Option<Credentials> {
    let mut in_profile = false;
    let (mut a, mut s, mut t) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = name.trim() == profile;
            continue;
        }
        if !in_profile {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim().to_owned();
            match k.trim() {
                "aws_access_key_id" => a = Some(v),
                "aws_secret_access_key" => s = Some(v),
                "aws_session_token" => t = Some(v),
                _ => {}
            }
        }
    }
    Some(Credentials {
        access_key_id: a?,
        secret_access_key: s?,
        session_token: t,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_profiles() {
        let text = "# comment\n[default]\naws_access_key_id = A1\naws_secret_access_key=S1\n\n[audit]\naws_access_key_id=A2\naws_secret_access_key = S2\naws_session_token = T2\n";
        let d = from_ini(text, "default").unwrap();
        assert_eq!(
            (d.access_key_id.as_str(), d.secret_access_key.as_str()),
            ("A1", "S1")
        );
        assert_eq!(d.session_token, None);
        let a = from_ini(text, "audit").unwrap();
        assert_eq!(a.session_token.as_deref(), Some("T2"));
        assert!(from_ini(text, "missing").is_none());
    }

    #[test]
    fn precedence_explicit_url_environment_file() {
        // The only test in this binary that touches AWS_* variables.
        let tmp = std::env::temp_dir().join(format!("sshtrail-creds-{}", std::process::id()));
        std::fs::write(
            &tmp,
            "[p1]\naws_access_key_id=FILE\naws_secret_access_key=F\n",
        )
        .unwrap();
        let url = format!("s3://b?credentials_file={}&profile=p1", tmp.display());
        let cfg = super::super::url::parse(&url).unwrap();
        std::env::remove_var("AWS_ACCESS_KEY_ID");
        std::env::remove_var("AWS_SECRET_ACCESS_KEY");
        assert_eq!(resolve(&cfg, None).unwrap().access_key_id, "FILE");
        std::env::set_var("AWS_ACCESS_KEY_ID", "ENV");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "E");
        std::env::set_var("AWS_SESSION_TOKEN", "T");
        let env = resolve(&cfg, None).unwrap();
        assert_eq!(
            (env.access_key_id.as_str(), env.session_token.as_deref()),
            ("ENV", Some("T"))
        );
        let with_keys =
            super::super::url::parse(&format!("{url}&access_key_id=URL&secret_access_key=U"))
                .unwrap();
        assert_eq!(resolve(&with_keys, None).unwrap().access_key_id, "URL");
        let explicit = Credentials {
            access_key_id: "OPT".into(),
            secret_access_key: "O".into(),
            session_token: None,
        };
        assert_eq!(
            resolve(&with_keys, Some(&explicit)).unwrap().access_key_id,
            "OPT"
        );
        for k in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
        ] {
            std::env::remove_var(k);
        }
        let _ = std::fs::remove_file(&tmp);
    }

    #[test]
    fn debug_hides_secret() {
        let c = Credentials {
            access_key_id: "AK".into(),
            secret_access_key: "VERYSECRET".into(),
            session_token: Some("TOKEN".into()),
        };
        let d = format!("{c:?}");
        assert!(!d.contains("VERYSECRET") && !d.contains("TOKEN"));
    }
}
