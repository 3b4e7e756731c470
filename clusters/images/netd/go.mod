module volcert.local/netd

go 1.22
