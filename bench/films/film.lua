-- GET /films/<id>/ for a random film of the 1000.
request = function()
    return wrk.format("GET", "/films/" .. math.random(1, 1000) .. "/")
end
