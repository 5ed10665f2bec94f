package whip_test
