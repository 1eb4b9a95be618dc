/* SPDX-License-Identifier: MIT
 * e1000_regs.h - register offsets and bits of the Intel 82540EM, from the
 * PCI/PCI-X Family of Gigabit Ethernet Controllers Software Developer's
 * Manual (8254x): chapter 13 "Register Descriptions" (offsets and bits),
 * chapter 3 "Receive and Transmit Description" (descriptor layouts) and
 * chapter 5 / 8 for the EEPROM and the PHY. Only what devices/e1000.c uses.
 */
#ifndef MINIVMM_E1000_REGS_H
#define MINIVMM_E1000_REGS_H

/* ---- register offsets in BAR 0 (13.3) ---- */
#define E1000_CTRL 0x0000
#define E1000_STATUS 0x0008
#define E1000_EECD 0x0010
#define E1000_EERD 0x0014
#define E1000_CTRL_EXT 0x0018
#define E1000_FLA 0x001c
#define E1000_MDIC 0x0020
#define E1000_FCAL 0x0028
#define E1000_FCAH 0x002c
#define E1000_FCT 0x0030
#define E1000_VET 0x0038
#define E1000_ICR 0x00c0
#define E1000_ITR 0x00c4
#define E1000_ICS 0x00c8
#define E1000_IMS 0x00d0
#define E1000_IMC 0x00d8
#define E1000_RCTL 0x0100
#define E1000_FCTTV 0x0170
#define E1000_TXCW 0x0178
#define E1000_RXCW 0x0180
#define E1000_TCTL 0x0400
#define E1000_TIPG 0x0410
#define E1000_AIT 0x0458
#define E1000_LEDCTL 0x0e00
#define E1000_PBA 0x1000
#define E1000_FCRTL 0x2160
#define E1000_FCRTH 0x2168
#define E1000_RDFH 0x2410
#define E1000_RDFT 0x2418
#define E1000_RDFHS 0x2420
#define E1000_RDFTS 0x2428
#define E1000_RDFPC 0x2430
#define E1000_RDBAL 0x2800
#define E1000_RDBAH 0x2804
#define E1000_RDLEN 0x2808
#define E1000_RDH 0x2810
#define E1000_RDT 0x2818
#define E1000_RDTR 0x2820
#define E1000_RXDCTL 0x2828
#define E1000_RADV 0x282c
#define E1000_RSRPD 0x2c00
#define E1000_TDFH 0x3410
#define E1000_TDFT 0x3418
#define E1000_TDFHS 0x3420
#define E1000_TDFTS 0x3428
#define E1000_TDFPC 0x3430
#define E1000_TDBAL 0x3800
#define E1000_TDBAH 0x3804
#define E1000_TDLEN 0x3808
#define E1000_TDH 0x3810
#define E1000_TDT 0x3818
#define E1000_TIDV 0x3820
#define E1000_TXDCTL 0x3828
#define E1000_TADV 0x382c
#define E1000_TSPMT 0x3830
#define E1000_STATS 0x4000 /* statistics, 0x4000..0x40ff */
#define E1000_STATS_END 0x4100
#define E1000_RXCSUM 0x5000
#define E1000_MTA 0x5200   /* 128 entries */
#define E1000_RA 0x5400    /* 16 pairs RAL/RAH */
#define E1000_VFTA 0x5600  /* 128 entries */
#define E1000_WUC 0x5800
#define E1000_WUFC 0x5808
#define E1000_WUS 0x5810
#define E1000_MANC 0x5820
#define E1000_IPAV 0x5838
#define E1000_IP4AT 0x5840 /* 4 pairs */
#define E1000_IP6AT 0x5880 /* 4 dwords */
#define E1000_WUPL 0x5900
#define E1000_WUPM 0x5a00  /* 32 dwords */
#define E1000_FFLT 0x5f00  /* 4 pairs */
#define E1000_FFMT 0x9000  /* 128 pairs */
#define E1000_FFVT 0x9800  /* 128 pairs */
#define E1000_BAR0_SIZE 0x20000
#define E1000_MTA_N 128
#define E1000_RA_N 16
#define E1000_VFTA_N 128

/* statistics (13.7), offsets in the 0x4000 block */
#define E1000_CRCERRS 0x4000
#define E1000_MPC 0x4010
#define E1000_RNBC 0x40a0
#define E1000_ROC 0x40ac
#define E1000_PRC64 0x405c
#define E1000_GPRC 0x4074
#define E1000_BPRC 0x4078
#define E1000_MPRC 0x407c
#define E1000_GPTC 0x4080
#define E1000_GORCL 0x4088
#define E1000_GORCH 0x408c
#define E1000_GOTCL 0x4090
#define E1000_GOTCH 0x4094
#define E1000_TORL 0x40c0
#define E1000_TORH 0x40c4
#define E1000_TOTL 0x40c8
#define E1000_TOTH 0x40cc
#define E1000_TPR 0x40d0
#define E1000_TPT 0x40d4
#define E1000_PTC64 0x40d8
#define E1000_MPTC 0x40f0
#define E1000_BPTC 0x40f4
#define E1000_TSCTC 0x40f8
#define E1000_TSCTFC 0x40fc

/* ---- I/O BAR (13.2): indirect access to BAR 0 ---- */
#define E1000_IOADDR 0x00
#define E1000_IODATA 0x04
#define E1000_BAR1_SIZE 64

/* ---- CTRL (13.4.1) ---- */
#define CTRL_FD 0x00000001u
#define CTRL_LRST 0x00000008u
#define CTRL_ASDE 0x00000020u
#define CTRL_SLU 0x00000040u
#define CTRL_SPD_1000 0x00000200u
#define CTRL_RST 0x04000000u
#define CTRL_VME 0x40000000u
#define CTRL_PHY_RST 0x80000000u

/* ---- STATUS (13.4.2) ---- */
#define STATUS_FD 0x00000001u
#define STATUS_LU 0x00000002u
#define STATUS_SPEED_1000 0x00000080u
#define STATUS_ASDV_1000 0x00000200u

/* ---- EECD (13.4.3) and EERD (13.4.4) ---- */
#define EECD_SK 0x00000001u
#define EECD_CS 0x00000002u
#define EECD_DI 0x00000004u
#define EECD_DO 0x00000008u
#define EECD_FWE_MASK 0x00000030u
#define EECD_REQ 0x00000040u
#define EECD_GNT 0x00000080u
#define EECD_PRES 0x00000100u
#define EECD_SIZE 0x00000200u /* 0: a 64-word Microwire EEPROM */
#define EERD_START 0x00000001u
#define EERD_DONE 0x00000010u
#define EERD_ADDR_SHIFT 8
#define EERD_DATA_SHIFT 16

/* EEPROM map (5.6) */
#define EEPROM_WORDS 64
#define EEPROM_INIT_CTRL1 0x0a
#define EEPROM_SUBSYS_ID 0x0b
#define EEPROM_SUBSYS_VENDOR 0x0c
#define EEPROM_DEVICE_ID 0x0d
#define EEPROM_VENDOR_ID 0x0e
#define EEPROM_INIT_CTRL2 0x0f
#define EEPROM_CHECKSUM_WORD 0x3f
#define EEPROM_CHECKSUM_SUM 0xbaba
#define EEPROM_MW_READ 0x6 /* Microwire: start bit 1, opcode 10 */
#define EEPROM_MW_OPBITS 3
#define EEPROM_MW_ADDRBITS 6

/* ---- MDIC (13.4.7) ---- */
#define MDIC_DATA_MASK 0x0000ffffu
#define MDIC_REG_SHIFT 16
#define MDIC_PHY_SHIFT 21
#define MDIC_OP_WRITE 0x04000000u
#define MDIC_OP_READ 0x08000000u
#define MDIC_READY 0x10000000u
#define MDIC_INT_EN 0x20000000u
#define MDIC_ERROR 0x40000000u
#define E1000_PHY_ADDR 1

/* ---- interrupt causes: ICR/ICS/IMS/IMC (13.4.17-21) ---- */
#define ICR_TXDW 0x00000001u
#define ICR_TXQE 0x00000002u
#define ICR_LSC 0x00000004u
#define ICR_RXSEQ 0x00000008u
#define ICR_RXDMT0 0x00000010u
#define ICR_RXO 0x00000040u
#define ICR_RXT0 0x00000080u
#define ICR_MDAC 0x00000200u
#define ICR_TXD_LOW 0x00008000u
#define ICR_SRPD 0x00010000u
#define ICR_VALID 0x0001f6dfu /* the causes the 82540EM has */

/* ---- RCTL (13.4.22) ---- */
#define RCTL_EN 0x00000002u
#define RCTL_SBP 0x00000004u
#define RCTL_UPE 0x00000008u
#define RCTL_MPE 0x00000010u
#define RCTL_LPE 0x00000020u
#define RCTL_RDMTS_SHIFT 8
#define RCTL_MO_SHIFT 12
#define RCTL_BAM 0x00008000u
#define RCTL_BSIZE_SHIFT 16
#define RCTL_VFE 0x00040000u
#define RCTL_BSEX 0x02000000u
#define RCTL_SECRC 0x04000000u

/* ---- TCTL (13.4.33) ---- */
#define TCTL_EN 0x00000002u
#define TCTL_PSP 0x00000008u

/* RAH (13.5.3) */
#define RAH_AV 0x80000000u

/* ---- descriptors (3.2.3 receive, 3.3.2-3.3.8 transmit): 16 bytes ---- */
#define E1000_DESC_SIZE 16
/* receive status (byte 12) and errors (byte 13) */
#define RXD_STAT_DD 0x01
#define RXD_STAT_EOP 0x02
#define RXD_STAT_IXSM 0x04
#define RXD_ERR_RXE 0x80
/* transmit: byte 11 is the command (legacy CMD, context TUCMD, data DCMD),
 * byte 12 the status, byte 10's high nibble the type of an extended one */
#define TXD_CMD_EOP 0x01
#define TXD_CMD_IFCS 0x02
#define TXD_CMD_IC 0x04  /* legacy: insert checksum */
#define TXD_CMD_TSE 0x04 /* data: TCP segmentation */
#define TXD_CMD_RS 0x08
#define TXD_CMD_DEXT 0x20
#define TXD_CMD_VLE 0x40
#define TXD_CMD_IDE 0x80
#define TXD_TUCMD_TCP 0x01 /* context: TCP (else UDP) */
#define TXD_TUCMD_IP 0x02  /* context: IPv4 (else IPv6) */
#define TXD_TUCMD_TSE 0x04
#define TXD_DTYP_CTX 0x0
#define TXD_DTYP_DATA 0x1
#define TXD_STAT_DD 0x01
#define TXD_POPTS_IXSM 0x01 /* byte 13 of a data descriptor */
#define TXD_POPTS_TXSM 0x02

/* ---- PHY registers (M88E1011, the 82540EM's PHY; 8.x) ---- */
#define PHY_CTRL 0x00
#define PHY_STATUS 0x01
#define PHY_ID1 0x02
#define PHY_ID2 0x03
#define PHY_AUTONEG_ADV 0x04
#define PHY_LP_ABILITY 0x05
#define PHY_AUTONEG_EXP 0x06
#define PHY_1000T_CTRL 0x09
#define PHY_1000T_STATUS 0x0a
#define PHY_EXT_STATUS 0x0f
#define M88_PHY_SPEC_CTRL 0x10
#define M88_PHY_SPEC_STATUS 0x11
#define M88_RX_ERR_CNTR 0x15
#define PHY_REGS 32
#define MII_CR_RESTART_AN 0x0200
#define MII_CR_RESET 0x8000
#define M88E1011_ID1 0x0141
#define M88E1011_ID2 0x0c20

#endif
