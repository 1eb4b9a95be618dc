/* SPDX-License-Identifier: MIT
 * ata_priv.h - what the ATA channel (devices/ata.c) shares with the PACKET
 * device (devices/atapi.c): the interrupt line, command completion, and
 * the PACKET device's hooks into the channel's protocols.
 */
#ifndef MINIVMM_ATA_PRIV_H
#define MINIVMM_ATA_PRIV_H

#include "devices/ata.h"

#define ATA_ST_OK (ATA_DRDY | ATA_DSC)

/* A new interrupt from d (a fresh edge), and d's interrupt withdrawn. */
void ata_raise_irq(struct ata_channel *ch, struct ata_drive *d);
/* d (the selected device) waits for the DMA engine: tell the host
 * controller. The caller does nothing with d afterwards, since the
 * transfer may have run and ended. */
void ata_dma_ready(struct ata_channel *ch);
/* The command ended with ERR and err in Error, with an interrupt. */
void ata_cmd_abort(struct ata_channel *ch, struct ata_drive *d, uint8_t err);
/* IDENTIFY string words: chars characters, space padded, two per word. */
void ata_id_string(uint16_t *w, const char *s, unsigned chars);
/* IDENTIFY words both kinds of device give alike: the transfer modes
 * supported and selected (63-68, 88), the standards (80), the reset
 * result (93). */
void ata_id_modes(const struct ata_drive *d, uint16_t id[256]);
/* IDENTIFY word 255: the signature A5h and the checksum over all 512
 * bytes. */
void ata_id_checksum(uint16_t id[256]);
/* IDENTIFY data into d->buf as the one PIO data-in block of the command. */
void ata_offer_identify(struct ata_channel *ch, struct ata_drive *d,
			const uint16_t id[256]);

/* ---- devices/atapi.c ---- */
/* A command written to the Command register of a PACKET device (not one
 * the channel runs for every device). */
void atapi_command(struct ata_channel *ch, struct ata_drive *d, uint8_t cmd);
/* The host has written the whole command packet. */
void atapi_packet_written(struct ata_channel *ch, struct ata_drive *d);
/* The host has read the whole DRQ block. */
void atapi_block_read(struct ata_channel *ch, struct ata_drive *d);
/* The DMA engine's side of a PACKET command (see ata.h's ata_dma_*). */
bool atapi_dma_pending(const struct ata_drive *d, uint64_t *bytes_left);
int atapi_dma_rw(struct ata_drive *d, const struct iovec *iov, int iovcnt);
void atapi_dma_done(struct ata_channel *ch, struct ata_drive *d, int err);
/* Power-on state of the drive's mechanism (tray closed, unlocked). */
void atapi_reset(struct ata_drive *d);

#endif
