/** PROTOCOL.md "Shapes": what clients receive. */
export {};
