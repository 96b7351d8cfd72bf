/*
 * crc32.c - CRC-32 as in IEEE 802.3 and zlib: reflected polynomial 0xEDB88320, initial value
 * and final xor 0xFFFFFFFF. Check value: crc32("123456789") = 0xCBF43926.
 *
 * Table-driven, eight bytes a step ("slicing-by-8", Kounavis and Berry, Intel 2005): table k
 * holds the CRC of a byte followed by k zero bytes, so eight table lookups advance the CRC over
 * eight input bytes. The bitwise loop this replaced ran at about 25 MB/s; the stores check every
 * file they read (a series of 130,000 bars is 6 MB), so the CRC was most of a read's time. The
 * tables (8 KiB) are computed once, on first use (pthread_once: the library has no other global
 * state and needs no initialisation call).
 */
#include <pthread.h>

#include "internal.h"

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t c = b;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
        crc_table[0][b] = c;
    }
    for (int k = 1; k < 8; k++)
        for (int b = 0; b < 256; b++)
            crc_table[k][b] =
                (crc_table[k - 1][b] >> 8) ^ crc_table[0][crc_table[k - 1][b] & 0xFFu];
}

uint32_t aifx_crc32(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&crc_once, crc_init);
    const unsigned char *p = data;
    crc = ~crc;
    /* eight bytes at a time, read byte by byte (no alignment or endianness assumption) */
    for (; n >= 8; n -= 8, p += 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                             (uint32_t)p[3] << 24);
        crc = crc_table[7][lo & 0xFFu] ^ crc_table[6][(lo >> 8) & 0xFFu] ^
              crc_table[5][(lo >> 16) & 0xFFu] ^ crc_table[4][lo >> 24] ^ crc_table[3][p[4]] ^
              crc_table[2][p[5]] ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
    }
    while (n--)
        crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xFFu];
    return ~crc;
}
