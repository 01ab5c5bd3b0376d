-- POST /reviews/ with a random film and rating.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
    local body = string.format('{"film_id": %d, "rating": %d}', math.random(1, 1000), math.random(1, 5))
    return wrk.format(nil, "/reviews/", nil, body)
end
