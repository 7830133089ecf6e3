-- A workload for the Lua interpreter under lucet-wasi: files, clocks, errors and some
-- real computation. Run as `lua workload.lua DIR`, DIR a writable preopen.
local dir = arg[1]

-- Files: write, append, read back by lines and by numbers, seek, rename, remove.
local path = dir .. "/primes.csv"
local f = assert(io.open(path, "w"))
local sieve, count = {}, 0
for i = 2, 10000 do
  if not sieve[i] then
    count = count + 1
    if count <= 10 then f:write(i, ",", i * i, "\n") end
    for j = i * i, 10000, i do sieve[j] = true end
  end
end
f:close()
print("primes below 10000: " .. count)
f = assert(io.open(path, "a"))
f:write("total,", count, "\n")
f:close()
local sum, lines = 0, 0
for line in io.lines(path) do
  local a, b = line:match("^(%w+),(%d+)$")
  lines = lines + 1
  if a ~= "total" then sum = sum + tonumber(b) end
end
print(string.format("%d lines, sum of squares %d", lines, sum))
f = assert(io.open(path, "r"))
print("size " .. f:seek("end") .. ", at 6: " .. (f:seek("set", 6) and f:read(5)))
f:close()
assert(os.rename(path, dir .. "/renamed.csv"))
print("old name gone:", io.open(path) == nil)
print("remove:", os.remove(dir .. "/renamed.csv"))
print("remove again:", os.remove(dir .. "/renamed.csv"))
print("open missing:", io.open(dir .. "/missing/file.txt"))
print("outside the sandbox:", io.open("/etc/passwd") == nil)

-- Clocks: the wall clock is after 2023, dates are computed, differences are exact.
local now = os.time()
print("now is after 2023:", now > 1700000000)
print("epoch + 1e9 s:", os.date("!%Y-%m-%d %H:%M:%S", 1000000000))
print("a day apart:", os.difftime(os.time({year = 2024, month = 3, day = 1, hour = 12}),
                                  os.time({year = 2024, month = 2, day = 29, hour = 12})))

-- Errors: thrown across frames (wasm exceptions carry each longjmp), error objects,
-- levels, handlers, nesting, and errors inside coroutines.
local function deep(n, payload)
  if n == 0 then error(payload, 0) end
  return deep(n - 1, payload) + 1
end
print("pcall string:", pcall(deep, 200, "fell 200 frames"))
local ok, e = pcall(deep, 50, { code = 42 })
print("pcall table:", ok, type(e), e.code)
print("with position:", pcall(function() local t = nil; return t.x end))
print("xpcall:", xpcall(function() error("inner") end,
  function(m) return "handled: " .. m:gsub("^.-:%d+: ", "") end))
print("nested:", pcall(function()
  local ok2, e2 = pcall(error, "first")
  error("second after " .. e2, 0)
end))
local co = coroutine.create(function(a)
  local b = coroutine.yield(a * 2)
  error("coroutine failed with " .. b, 0)
end)
print("resume:", coroutine.resume(co, 21))
print("resume:", coroutine.resume(co, "x"))
print("status:", coroutine.status(co))

-- Strings and tables.
local words = {}
for w in ("the quick brown fox jumps over the lazy dog"):gmatch("%a+") do
  words[#words + 1] = w
end
table.sort(words, function(a, b) return #a > #b or (#a == #b and a < b) end)
print(table.concat(words, " "))
print(("hello wasm"):gsub("(%w+)", "<%1>"))
print(string.format("%5.2f|%-6s|%x|%q", math.pi, "left", 255, "a\nb"))
