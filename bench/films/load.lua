-- The load run's mix: 7 in 10 requests read one film, 1 lists the films made
-- after a random year, 2 post a review.
local count = 0
local json = { ["Content-Type"] = "application/json" }

request = function()
    count = count + 1
    local turn = count % 10
    if turn < 7 then
        return wrk.format("GET", "/films/" .. math.random(1, 1000) .. "/")
    elseif turn < 8 then
        return wrk.format("GET", "/films/?year.gt=" .. math.random(1925, 2024))
    end
    local body = string.format('{"film_id": %d, "rating": %d}', math.random(1, 1000), math.random(1, 5))
    return wrk.format("POST", "/reviews/", json, body)
end
