//! The `none` backend: session logs are switched off. Writes succeed and keep nothing, so the
//! daemon needs no special case; reads find nothing.

use crate::{Error, SessionMeta, ShutdownReport, Store, StoreStats};

/// Keeps nothing.
#[derive(Debug, Default)]
pub struct NoneStore;

impl Store for NoneStore {
    fn kind(&self) -> &'static str {
        "none"
    }
    fn open_local(&self, id: &str) -> Result<Option<std::fs::File>, Error> {
        crate::validate_id(id)?;
        Ok(None)
    }
    fn write_meta(&self, meta: &SessionMeta) -> Result<(), Error> {
        crate::validate_id(&meta.id)
    }
    fn finish(&self, meta: &SessionMeta) -> Result<(), Error> {
        crate::validate_id(&meta.id)
    }
    fn list(&self) -> Result<Vec<SessionMeta>, Error> {
        Ok(Vec::new())
    }
    fn meta(&self, id: &str) -> Result<SessionMeta, Error> {
        crate::validate_id(id)?;
        Err(Error::NotFound(id.to_owned()))
    }
    fn open(&self, id: &str) -> Result<Box<dyn std::io::Read + Send>, Error> {
        crate::validate_id(id)?;
        Err(Error::NotFound(id.to_owned()))
    }
    fn shutdown(&self, _deadline: std::time::Duration) -> ShutdownReport {
        ShutdownReport::default()
    }
    fn stats(&self) -> StoreStats {
        StoreStats::default()
    }
}
