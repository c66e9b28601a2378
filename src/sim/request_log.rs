//! `--request-log`: one line per API request, `<verb> <method> <path>`. A fleet's clusters
//! share the file, each line then starting with the cluster's name.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Clone)]
pub struct RequestLog {
    file: Arc<Mutex<File>>,
    /// The cluster's name, in a fleet.
    prefix: Option<String>,
}

impl RequestLog {
    /// Opens (appends to) the file.
    pub fn open(path: &Path) -> std::io::Result<RequestLog> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(RequestLog {
            file: Arc::new(Mutex::new(file)),
            prefix: None,
        })
    }

    /// The same file, its lines starting with `cluster`.
    pub fn for_cluster(&self, cluster: &str) -> RequestLog {
        RequestLog {
            file: self.file.clone(),
            prefix: Some(cluster.to_string()),
        }
    }

    pub fn record(&self, line: &str) {
        let line = match &self.prefix {
            Some(cluster) => format!("{cluster} {line}\n"),
            None => format!("{line}\n"),
        };
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = file.write_all(line.as_bytes());
    }
}
