-- wrk script for the `validated` scenario: POST /users with a NewUser JSON body
-- (the pydantic model of bench/apps). bench/run.py sends the very same body
-- (USERS_BODY) for its correctness check; every server answers 201.
--
--   wrk -t1 -c64 -d10s --latency -s bench/users.lua http://127.0.0.1:8101/users

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"name": "Ada Lovelace", "age": 36, "email": "ada@example.com"}'
