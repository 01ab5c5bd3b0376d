wrk.method = "POST"
wrk.body = '{"message": "hello", "values": [1, 2, 3]}'
wrk.headers["Content-Type"] = "application/json"
