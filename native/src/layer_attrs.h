/* `nestbox-runtime layer apply|xattrs --dir DIR`: see layer_attrs.c. */
#ifndef NBX_LAYER_ATTRS_H
#define NBX_LAYER_ATTRS_H

int layer_main(int argc, char **argv);

#endif
