-- What came from this address, everywhere, from $since until $until: logins (failed ones
-- too) and everything done in the sessions it opened.
SELECT host, time, type, user, action, object, argv, session_id, outcome, event_id
FROM sshtrail_events
WHERE source_ip = $source_ip
  AND date BETWEEN CAST($since AS DATE) AND CAST($until AS DATE)
  AND time >= $since AND time < $until
ORDER BY time, event_id;
