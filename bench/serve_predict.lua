-- serve_predict.lua - wrk script for bench/serve.sh: POST /v1/predict with a fixed body and the
-- bearer token (both from the environment), keep-alive. Counts non-2xx answers.
wrk.method = "POST"
wrk.body = os.getenv("AIFX_BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("AIFX_BENCH_TOKEN")

local bad = 0
response = function(status, headers, body)
    if status < 200 or status >= 300 then
        bad = bad + 1
        if bad <= 3 then
            io.stderr:write("non-2xx: " .. status .. " " .. body .. "\n")
        end
    end
end

done = function(summary, latency, requests)
    io.write(string.format("requests %d errors_non2xx_seen_by_thread_0 %d\n",
                           summary.requests, bad))
    io.write(string.format("latency_us p50 %.0f p90 %.0f p99 %.0f max %.0f\n",
                           latency:percentile(50), latency:percentile(90),
                           latency:percentile(99), latency.max))
    io.write(string.format("throughput_rps %.0f\n",
                           summary.requests / (summary.duration / 1e6)))
    io.write(string.format("socket_errors connect %d read %d write %d timeout %d status %d\n",
                           summary.errors.connect, summary.errors.read, summary.errors.write,
                           summary.errors.timeout, summary.errors.status))
end
