//! Records straight from the kernel over netlink: beside auditd (multicast, the
//! read-log group) or instead of it (unicast, as the audit daemon).

use super::{audit_line_time, Batch, Item, Notice, Payload, Pull, Side, Source, BATCH_ITEMS};
use sshtrail_audit::netlink::AuditClient;
use sshtrail_audit::RecordType;
use std::time::Duration;

pub struct NetlinkSource {
    client: Option<AuditClient>,
    overflows_seen: u64,
}

impl NetlinkSource {
    pub fn new(client: AuditClient) -> NetlinkSource {
        NetlinkSource {
            client: Some(client),
            overflows_seen: 0,
        }
    }
}

impl Source for NetlinkSource {
    fn name(&self) -> &'static str {
        "netlink"
    }

    fn side(&self) -> Side {
        Side::Audit
    }

    fn rewindable(&self) -> bool {
        false
    }

    fn batch_wait(&self) -> Duration {
        // The kernel sends each record on its own; kept short for the netlink source's low latency.
        Duration::from_millis(20)
    }

    fn pull(&mut self, timeout: Duration) -> Pull {
        let Some(client) = self.client.as_mut() else {
            return Pull::End;
        };
        let mut batch = Batch::new();
        let received = client.receive_each(timeout, BATCH_ITEMS, |msg_type, payload| {
            if !RecordType(msg_type).is_record() {
                return;
            }
            let time_ms = audit_line_time(payload);
            let range = batch.push_bytes(payload);
            batch.items.push(Item {
                payload: Payload::AuditRecord { msg_type, range },
                time_ms,
                end: None,
            });
        });
        if let Err(e) = received {
            batch.push_notice(Notice::Failed(format!("netlink: {e}")));
            std::thread::sleep(Duration::from_secs(1));
        }
        let overflows = client.stats().enobufs;
        if overflows > self.overflows_seen {
            batch.push_notice(Notice::Overflow {
                times: overflows - self.overflows_seen,
            });
            self.overflows_seen = overflows;
        }
        if batch.is_empty() {
            Pull::Idle
        } else {
            Pull::Batch(batch)
        }
    }

    fn stop(&mut self) {
        // Unregisters a unicast daemon so that auditd can take over again.
        if let Some(client) = self.client.take() {
            let _ = client.close();
        }
    }
}
