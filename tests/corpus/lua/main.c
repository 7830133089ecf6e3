/* A minimal `lua SCRIPT [ARGS...]`: runs the script with the standard libraries and
 * `arg` set; an uncaught error prints `lua: MESSAGE` and exits with 1. */
#include <stdio.h>
#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: lua SCRIPT [ARGS...]\n");
        return 2;
    }
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_createtable(L, argc, 0);
    for (int i = 1; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    lua_setglobal(L, "arg");
    if (luaL_dofile(L, argv[1]) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        if (msg)
            fprintf(stderr, "lua: %s\n", msg);
        else
            fprintf(stderr, "lua: (error object is a %s value)\n", luaL_typename(L, -1));
        lua_close(L);
        return 1;
    }
    lua_close(L);
    return 0;
}
