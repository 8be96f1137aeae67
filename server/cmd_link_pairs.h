/*
 * server/cmd_link_pairs.h - private: `fora link pairs` (server/cmd_link_pairs.c),
 * dispatched by `fora link` (server/cmd_link.c).
 */
#ifndef FORA_CMD_LINK_PAIRS_H
#define FORA_CMD_LINK_PAIRS_H

/* `fora link pairs ...`; argv[0] is "pairs".  Returns the process exit code. */
int fora_cmd_link_pairs(int argc, char **argv);

#endif /* FORA_CMD_LINK_PAIRS_H */
