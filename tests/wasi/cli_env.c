/* cli_env.c — prints argv and the whole environment, for the CLI checks of
 * --env NAME (pass one host variable), --argv0 and the default argv[0]. */
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv) {
    for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    for (char **e = environ; *e; e++) printf("env %s\n", *e);
    return 0;
}
