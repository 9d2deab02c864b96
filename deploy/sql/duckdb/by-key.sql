-- What did this key (or certificate: use cert_id) do, everywhere: every event of every
-- session that logged in with it from $since until $until.
--
-- A session is (machine_id, session_id), the kernel's audit session, which counts from 1
-- again at each boot: so a session's events are those of its id from its login (less a
-- second: the kernel's LOGIN record comes a moment before sshd's line) until the next
-- login that got the same id. Its leftover processes, after the logout, are included.
WITH logins AS (
    SELECT machine_id, session_id, fingerprint, cert_id, time AS login_time,
           lead(time) OVER (PARTITION BY machine_id, session_id ORDER BY time) AS next_login
    FROM sshtrail_events
    WHERE type = 'UserLogin' AND outcome = 'succeeded' AND session_id IS NOT NULL
)
SELECT e.host, e.time, e.type, e.user, e.action, e.object, e.argv, e.source_ip,
       e.session_id, e.outcome, e.event_id
FROM logins l
JOIN sshtrail_events e
  ON e.machine_id = l.machine_id
 AND e.session_id = l.session_id
 AND e.time >= l.login_time - INTERVAL 1 SECOND
 AND (l.next_login IS NULL OR e.time < l.next_login - INTERVAL 1 SECOND)
WHERE l.fingerprint = $fingerprint
  AND l.login_time >= $since AND l.login_time < $until
ORDER BY e.time, e.event_id;
