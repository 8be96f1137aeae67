#include <stdio.h>
int main(void) { puts("fora"); return 0; }
