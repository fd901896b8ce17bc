# shellcheck shell=sh
# Interactive shells on the image.
PS1='\h:\w\$ '
export PS1
