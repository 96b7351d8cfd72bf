/*
 * crc32.c - CRC-32 as in IEEE 802.3 and zlib: reflected polynomial 0xEDB88320, initial value
 * and final xor 0xFFFFFFFF. Bitwise over a byte at a time with a table computed on the fly
 * would need global state; checkpoints are small, so the loop takes the 8 bits directly.
 * Check value: crc32("123456789") = 0xCBF43926.
 */
#include "internal.h"

uint32_t aifx_crc32(uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}
