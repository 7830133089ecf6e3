/* Calls every kind of host function of tests/hostcall.rs through the header that
 * HostcallSet::c_header generated (written next to this file's build by the test). */
#include <stdio.h>
#include <string.h>

struct Point { float x, y; };
#include "hostcalls.h"

int main(void) {
    printf("put %u\n", kv_put("colour", 6, (const uint8_t *)"blue", 4));
    printf("put %u\n", kv_put("size", 4, (const uint8_t *)"xl", 2));
    uint8_t buf[8];
    memset(buf, '.', sizeof buf);
    int32_t n = kv_get("colour", 6, buf, sizeof buf);
    printf("get %d %.8s\n", n, (const char *)buf);
    printf("get %d\n", kv_get("nope", 4, buf, sizeof buf));
    fflush(stdout); /* the host writes to descriptor 1 directly, past stdio's buffer */
    env_log(2, "hello host", 10);
    printf("scale %g\n", env_scale(1.5, 2.0f));
    printf("negate %d %d\n", env_negate(true), env_negate(false));
    printf("mix %lld\n", (long long)env_mix(-3, (int64_t)1 << 40, UINT64_MAX));
    struct Point points[2] = {{1, 2}, {3, 4}};
    env_shift(points, 2, 0.5f, -1.0f);
    printf("shift (%g,%g) (%g,%g)\n", points[0].x, points[0].y, points[1].x, points[1].y);
    struct Point c = {0, 0};
    uint32_t count = env_centroid(points, 2, &c);
    printf("centroid %u (%g,%g)\n", count, c.x, c.y);
    const uint8_t bytes[3] = {1, 2, 3};
    printf("owned %u\n", env_owned("h\xc3\xa9llo", 6, bytes, 3));
    printf("checked_div %d\n", env_checked_div(7, 2));
    uint32_t squares[4] = {0};
    env_squares((uint32_t)(uintptr_t)squares, 4);
    printf("squares %u %u %u %u\n", squares[0], squares[1], squares[2], squares[3]);
    return 0;
}
