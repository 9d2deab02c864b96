-- What did this account do, everywhere, from $since until $until?
SELECT host, time, type, action, object, argv, source_ip, session_id, outcome, event_id
FROM sshtrail_events
WHERE user = $user
  AND date BETWEEN CAST($since AS DATE) AND CAST($until AS DATE)
  AND time >= $since AND time < $until
ORDER BY time, event_id;
