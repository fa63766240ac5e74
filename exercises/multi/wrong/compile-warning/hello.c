#include <stdio.h>

int main (void)
{
    int unused;
    printf ("Hello, world!\n");
    return 0;
}
