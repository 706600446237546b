/* fuzz-tree.h: the small unit tree the signald fuzz targets set up (a province, a
 * district and two communes), as the unit-list CSV. */
#pragma once

static const char fuzz_tree[] = "code,name,tier,parent_code\n"
                                "VN,Việt Nam,central,\n"
                                "08,Tỉnh Tuyên Quang,province,VN\n"
                                "076,Huyện Sơn Dương,district,08\n"
                                "02536,Thị trấn Sơn Dương,commune,076\n"
                                "02539,Xã Trung Yên,commune,076\n";
